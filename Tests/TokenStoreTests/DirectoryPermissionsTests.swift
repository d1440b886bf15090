import Testing

@testable import TokenStore

#if canImport(Glibc)
import Glibc
#endif

@Suite("Data directory permissions")
struct DirectoryPermissionsTests {
    @Test func verdicts() {
        let me: uid_t = 1000
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o700, owner: me, user: me) == .tight)
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o755, owner: me, user: me) == .tighten(from: 0o755))
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o710, owner: me, user: me) == .tighten(from: 0o710))
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o1777, owner: me, user: me) == .tighten(from: 0o1777))
        // Another user's volume: the group is the deployment's choice, others never are.
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o700, owner: 0, user: me) == .tight)
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o2770, owner: 0, user: me) == .groupAccess(mode: 0o2770))
        #expect(DirectoryPermissions.check(mode: S_IFDIR | 0o775, owner: 0, user: me) == .refuse(mode: 0o775, owner: 0))
        #expect(
            DirectoryPermissions.check(mode: S_IFDIR | 0o1777, owner: 0, user: me) == .refuse(mode: 0o1777, owner: 0))
        #expect(DirectoryPermissions.octal(0o700) == "0700")
        #expect(DirectoryPermissions.octal(S_IFDIR | 0o2770) == "2770")
    }

    @Test func openingTightensAnExistingLooseDirectory() throws {
        let fixture = JournalFixture()
        defer { fixture.cleanup() }
        #expect(mkdir(fixture.dir.data, 0o755) == 0)
        #expect(chmod(fixture.dir.data, 0o755) == 0)
        let loose = fixture.dir.data + "/leftover"
        let fd = open(loose, O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        close(fd)
        #expect(chmod(loose, 0o644) == 0)
        let store = try fixture.open()
        store.close()
        var st = stat()
        #expect(stat(fixture.dir.data, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o700)
        #expect(stat(loose, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o600)
        #expect(fixture.log.contains(.warning, "tightened to 0700"))
    }
}
