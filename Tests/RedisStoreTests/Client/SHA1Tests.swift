import Testing

@testable import RedisStore

@Suite("SHA-1 (script names)")
struct SHA1Tests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        ),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ])
    func vectors(_ input: String, _ hex: String) {
        #expect(SHA1.hex(Array(input.utf8)) == hex)
    }

    @Test func blockBoundaries() {
        // 56 and 64 bytes straddle the padding rules; a million bytes spans many blocks.
        #expect(SHA1.hex([UInt8](repeating: 97, count: 64)) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
        #expect(SHA1.hex([UInt8](repeating: 97, count: 56)) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(SHA1.hex([UInt8](repeating: 97, count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }
}
