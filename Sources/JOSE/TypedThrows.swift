// The standard library's `withUnsafeBytes` is `rethrows`, which erases `JOSEError` to
// `any Error`; these wrappers keep typed throws through the closure.

extension Array where Element == UInt8 {
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JOSEError) -> R) throws(JOSEError) -> R {
        try withUnsafeBytes { b in Result { () throws(JOSEError) in try body(b) } }.get()
    }
}

extension ArraySlice where Element == UInt8 {
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JOSEError) -> R) throws(JOSEError) -> R {
        try withUnsafeBytes { b in Result { () throws(JOSEError) in try body(b) } }.get()
    }
}
