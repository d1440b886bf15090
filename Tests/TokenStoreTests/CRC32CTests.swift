import Testing

@testable import TokenStore

@Suite("CRC32C")
struct CRC32CTests {
    /// The check value of the Castagnoli CRC, and the RFC 3720 §B.4 vectors.
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func updateContinuesAChecksum() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        #expect(CRC32C.update(CRC32C.checksum(bytes[..<10]), bytes[10...]) == CRC32C.checksum(bytes))
    }
}
