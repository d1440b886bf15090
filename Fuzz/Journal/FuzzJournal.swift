// libFuzzer target: the embedded store's journal decoding (TokenStore): record payloads,
// the framed record reader, log replay and snapshot restore, all on bytes in memory.
//
// Input: byte 0 is the control byte. Bits 0-1 pick the mode, bit 2 is "raw" (modes 2, 3),
// bits 3-7 a small read chunk (1...32 bytes); the rest is:
//  - 0: a record body: byte 1 its type, the rest its payload (`JournalRecord.decode`). A
//    record that decodes re-encodes to one frame that scans whole and decodes equal, and
//    encoding is then a fixed point (the bytes of a decoded re-encoding are the same).
//  - 1: the bytes after a file header (`RecordFileReader` over `RecordBytes`). Read with a
//    1 MiB chunk and with the small chunk, the records, torn offsets and errors are the same,
//    and match a plain `JournalFormat.scan` walk of the bytes.
//  - 2: a log file, replayed as recovery does (`JournalFormat.parseHeader`, `LogReplay.apply`).
//  - 3: a snapshot file, restored (`Snapshot.restore`).
// In modes 2 and 3 the rest is, unless raw, a list of units `type u8 | length u16 LE |
// payload` that the harness frames with their checksums after a valid header, so that
// mutations reach the decoders and the state behind the CRC; raw, it is the file as is. Each
// is read with both chunks (same outcome), and a replayed state is written as a snapshot
// (as `Snapshot.write` writes one) and restored: the live content must come back equal.
@testable import TokenStore

#if canImport(Glibc)
import Glibc
#endif

/// `FUZZ_DEBUG=1` prints what each input reached (to check that the seeds reach what they should).
private let debug = getenv("FUZZ_DEBUG") != nil

/// `precondition` that prints its message in -O builds too (where `precondition` drops it),
/// so that a crash log says which property failed.
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "property violated") {
    if !condition { fatalError(message()) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let chunk = Int(control >> 3) + 1
    let raw = control & 0x04 != 0
    switch control & 0x03 {
    case 0: recordBody(rest)
    case 1: frames(rest, chunk: chunk)
    case 2: log(raw ? rest : file(.log, framing: rest), chunk: chunk)
    default: snapshot(raw ? rest : file(.snapshot, framing: rest), chunk: chunk)
    }
    return 0
}

private func recordBody(_ input: [UInt8]) {
    guard let type = input.first else { return }
    let decoded = Result { () throws(JournalRecord.DecodeError) in
        try JournalRecord.decode(type: type, input, 1..<input.count)
    }
    if debug { print("record: \(decoded)") }
    guard case .success(let record) = decoded else { return }
    let frame = encode(record)
    guard case .frame(let t, let payload, let next) = JournalFormat.scan(frame, at: 0), next == frame.count else {
        fatalError("re-encoded \(record) does not scan as one frame")
    }
    let again = Result { () throws(JournalRecord.DecodeError) in try JournalRecord.decode(type: t, frame, payload) }
    require(again == .success(record), "\(record) re-decoded as \(again)")
    require(encode(record) == frame && t == type, "encoding of \(record) is not stable")
}

/// Everything `RecordFileReader` returns until the end, a torn record or an error.
private func readAll(_ bytes: [UInt8], chunk: Int) -> [Result<RecordFileReader.Next, RecordFileReader.Failure>] {
    var reader = RecordFileReader(RecordBytes(bytes: bytes), from: 0, chunk: chunk)
    var out: [Result<RecordFileReader.Next, RecordFileReader.Failure>] = []
    while true {
        let next = Result { () throws(RecordFileReader.Failure) in try reader.next() }
        out.append(next)
        guard case .success(.record) = next else { return out }
        require(out.count <= bytes.count / 9, "more records than 9-byte frames fit")
    }
}

private func frames(_ input: [UInt8], chunk: Int) {
    let big = readAll(input, chunk: 1 << 20)
    let small = readAll(input, chunk: chunk)
    if debug { print("frames: \(big)") }
    require(big == small, "chunk \(chunk): \(small) != \(big)")
    // The same walk with `JournalFormat.scan` over the whole buffer.
    var at = 0
    for step in big {
        switch (JournalFormat.scan(input, at: at), step) {
        case (.frame(let type, let payload, let next), .success(.record(let record, offset: at))):
            require((try? JournalRecord.decode(type: type, input, payload)) == record)
            at = next
        case (.frame(let type, let payload, _), .failure(.undecodable(let u))):
            require(u.offset == at && (try? JournalRecord.decode(type: type, input, payload)) == nil)
        case (.incomplete, .success(.end(offset: at))):
            require(at == input.count, "end at \(at) of \(input.count)")
        case (.incomplete, .success(.torn(offset: at, _))), (.corrupt, .success(.torn(offset: at, _))):
            break
        case (let scan, let step):
            fatalError("scan \(scan) at \(at), reader \(step)")
        }
    }
}

/// A file of `kind`: a valid header, then each unit of `input` framed with its checksum.
private func file(_ kind: JournalFormat.FileKind, framing input: [UInt8]) -> [UInt8] {
    var out = JournalFormat.header(kind, sequence: 1)
    var i = 0
    while i + 3 <= input.count {
        let type = input[i]
        let n = min(Int(input[i + 1]) | Int(input[i + 2]) << 8, input.count - i - 3)
        let payload = input[(i + 3)..<(i + 3 + n)]
        try! JournalFormat.frame(type: type, into: &out) { w in w.bytes.append(contentsOf: payload) }
        i += 3 + n
    }
    return out
}

/// Replays a log as `Journal.open` does, with both chunks, and checks the state's snapshot.
private func log(_ bytes: [UInt8], chunk: Int) {
    let header = Result { () throws(JournalFormat.HeaderProblem) in
        try JournalFormat.parseHeader(bytes, expecting: .log)
    }
    if debug { print("log header: \(header)") }
    guard case .success = header else { return }
    func replay(_ chunk: Int) -> (Result<LogReplay, JournalOpenError>, TokenState) {
        var state = TokenState()
        let r = Result { () throws(JournalOpenError) in
            try LogReplay.apply(from: RecordBytes(bytes: bytes), path: "log", into: &state, chunk: chunk)
        }
        return (r, state)
    }
    let (big, state) = replay(1 << 20)
    let (small, smallState) = replay(chunk)
    if debug { print("log replay: \(big), \(state.families.count) families, \(state.revocations.count) revocations") }
    require(big == small, "chunk \(chunk): \(small) != \(big)")
    require(state.clock == smallState.clock && state.image(at: state.clock) == smallState.image(at: state.clock))
    if case .success(let r) = big {
        require(r.end <= bytes.count && (r.tornReason != nil || r.end == bytes.count), "replay \(r)")
    }
    checkIndexes(state)
    // The state so far (records before a torn tail or an undecodable one) is what a
    // compaction would write.
    checkSnapshotRoundTrip(state)
}

/// The lookup and subject indexes agree with the families, whatever was replayed.
private func checkIndexes(_ state: TokenState) {
    require(state.sidByLookup.count == state.families.count, "\(state.sidByLookup.count) lookup keys")
    for (sid, f) in state.families {
        require(f.sid == sid && state.sidByLookup[f.lookupKey] == sid, "family \(sid) not indexed by its key")
        require(state.sidsBySubject[f.subject]?.contains(sid) == true, "family \(sid) not indexed by subject")
        require(f.olderHashes.count <= Family.maxOlderHashes, "\(f.olderHashes.count) older hashes")
    }
    require(state.sidsBySubject.values.reduce(0) { $0 + $1.count } == state.families.count)
}

/// `state` written as a snapshot and restored has the same live content at its clock.
private func checkSnapshotRoundTrip(_ state: TokenState) {
    let written = snapshotBytes(of: state)
    switch Result(catching: { () throws(JournalOpenError) in
        try Snapshot.restore(
            header: Array(written.prefix(JournalFormat.headerSize)), from: RecordBytes(bytes: written), path: "s")
    }) {
    case .success(let restored):
        require(restored.nextSequence == 2, "next sequence \(restored.nextSequence)")
        let now = state.clock
        require(restored.state.image(at: now) == state.image(at: now), "snapshot round trip differs")
    case .failure(let error):
        fatalError("a written snapshot does not restore: \(error)")
    }
}

/// Restores a snapshot with both chunks: the same state or the same error.
private func snapshot(_ bytes: [UInt8], chunk: Int) {
    func restore(_ chunk: Int) -> Result<(state: TokenState, nextSequence: UInt64), JournalOpenError> {
        Result { () throws(JournalOpenError) in
            try Snapshot.restore(
                header: Array(bytes.prefix(JournalFormat.headerSize)),
                from: RecordBytes(bytes: bytes),
                path: "s",
                chunk: chunk
            )
        }
    }
    let big = restore(1 << 20)
    if debug { print("snapshot: \(big.map { "\($0.state.families.count) families, next \($0.nextSequence)" })") }
    switch (big, restore(chunk)) {
    case (.success(let a), .success(let b)):
        require(a.nextSequence == b.nextSequence && a.state.clock == b.state.clock)
        require(a.state.image(at: a.state.clock) == b.state.image(at: a.state.clock), "chunk \(chunk) differs")
        checkIndexes(a.state)
        checkSnapshotRoundTrip(a.state)
    case (.failure(let a), .failure(let b)):
        require(a == b, "chunk \(chunk): \(b) != \(a)")
    case (let a, let b):
        fatalError("chunk \(chunk): \(b) != \(a)")
    }
}

/// The snapshot `Snapshot.write` makes of `state` (live families and revocations at its
/// clock, then the end record), as bytes.
private func snapshotBytes(of state: TokenState) -> [UInt8] {
    let now = state.clock
    var out = JournalFormat.header(.snapshot, sequence: 2)
    let families = state.liveFamilies(at: now)
    let revocations = state.liveRevocations(at: now)
    for f in families { out += encode(.family(f)) }
    for r in revocations { out += encode(.revocation(r.target, until: r.until)) }
    out += encode(.snapshotEnd(families: UInt64(families.count), revocations: UInt64(revocations.count), clock: now))
    return out
}

private func encode(_ record: JournalRecord) -> [UInt8] {
    var out: [UInt8] = []
    do { try record.encode(into: &out) } catch { fatalError("\(record) does not fit a frame: \(error)") }
    return out
}
