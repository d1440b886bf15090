/// The one spelling of a username that the throttle counts and the users file is looked up
/// by, so that `Carol`, `CAROL`, ` carol ` and a decomposed `é` are the same account with the
/// same budget (a case-insensitive backend would accept each of them).
///
/// Normalisation: Unicode NFC, then Unicode default lower-casing (`String.lowercased()`, the
/// stdlib's full lower-case mapping; not full case folding, so `STRASSE` stays apart from
/// `straße`), NFC again (lower-casing may decompose), then surrounding white space trimmed.
/// NFC comes from the standard library's own normaliser (`_nfcCodeUnits`, the code behind
/// `String`'s canonical-equivalence comparisons), so the static binary pulls in no ICU.
enum Username {
    /// The normalised form of `raw`; empty if `raw` is only white space.
    static func normalize(_ raw: String) -> String {
        let lower = nfc(raw).lowercased()
        let composed = nfc(lower)
        var trimmed = Substring(composed)
        while let c = trimmed.first, c.isWhitespace { trimmed.removeFirst() }
        while let c = trimmed.last, c.isWhitespace { trimmed.removeLast() }
        return String(trimmed)
    }

    private static func nfc(_ s: String) -> String {
        // ASCII is already NFC: skip the normaliser's copy on the common path.
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        return String(decoding: s._nfcCodeUnits, as: UTF8.self)
    }
}
