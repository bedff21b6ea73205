extension Finding {
    /// A stable identity for baselines and SARIF's partialFingerprints, made of what the
    /// finding is — its rule and its identity (the classes of a cycle, the safe and unsafe
    /// classes of an inversion, the kernel function where a lock is taken twice…) — and
    /// never of the evidence that happened to show it first: the same bug seen in another
    /// trace, or in traces given in another order, has the same fingerprint. No line numbers
    /// or event indices either, so adding unrelated events to a trace leaves it unchanged.
    public var fingerprint: String {
        occurrence > 1 ? "\(baseFingerprint)-\(occurrence)" : baseFingerprint
    }

    /// The fingerprint before counting occurrences.
    var baseFingerprint: String { FNV1a64.hex(baseFingerprintValue) }

    /// `baseFingerprint` as the number its 16 hex digits write. The order of findings
    /// compares these where two findings' evidence is the same (two fingerprints compare as
    /// their digits, lowercase and zero-padded, do), and makes the text only where a
    /// fingerprint meets a line number (evidence lists of different lengths).
    var baseFingerprintValue: UInt64 {
        Self.baseFingerprintValue(rule: rule, identity: identity, objects: objects)
    }

    /// `baseFingerprintValue` of a finding of `rule`, `identity` and `objects` (a finding not
    /// made yet gives them: `PendingFindingMaker.baseFingerprint`).
    static func baseFingerprintValue(rule: Rule, identity: String, objects: [String]) -> UInt64 {
        // The hash of "v2\n" + rule + "\n" + identity + "\n" + objects joined by ",", taken
        // part by part: no string of them all is made.
        var hash = FNV1a64()
        hash.add("v2\n")
        hash.add(rule.rawValue)
        hash.add("\n")
        hash.add(identity)
        hash.add("\n")
        for (index, object) in objects.enumerated() {
            if index > 0 { hash.add(",") }
            hash.add(object)
        }
        return hash.value
    }

    /// The dedup key without trace places: where a checker had no kernel function or source
    /// location to name a site by, it named the trace file and line; both are dropped here
    /// (the same bug read through `./t.xml` or standard input is the same bug).
    var identity: String {
        Self.identity(key: key, unnamed: locations.lazy.filter { $0.function == nil && $0.at == nil }.map { (file: $0.file, line: $0.line) })
    }

    /// `identity` of a finding whose key is `key` and whose locations that name neither a
    /// function nor a source place are at `unnamed` (file, line), in the order it cites them.
    static func identity(key: String, unnamed: some Collection<(file: String, line: Int)>) -> String {
        // A trace place is written `file:line`: a key with no colon names none (a cycle's
        // classes, nearly every key), and is its own identity.
        guard Self.bytes(of: key, contain: ":") else { return key }
        // Most keys name no trace place at all (a cycle's classes): one look per file then,
        // not one per location (a cycle through a thousand classes cites two thousand).
        var files: [String] = []
        for location in unnamed where !files.contains(location.file) { files.append(location.file) }
        guard files.contains(where: { Self.bytes(of: key, contain: "\($0):") }) else { return key }
        var identity = key
        for location in unnamed {
            identity = identity.replacing("\(location.file):\(location.line)", with: "?")
        }
        return identity
    }

    /// Whether `text` holds `part`, as `String.contains` says (by Unicode characters: é as
    /// one scalar or as e and an accent is one character). Searched byte for byte where both
    /// are ASCII, as nearly every key and file name is: the Unicode search cost ten times as
    /// much, on every finding's key.
    static func bytes(of text: String, contain part: String) -> Bool {
        guard !part.isEmpty else { return true }
        var (copy, partCopy) = (text, part)
        let found: Bool? = copy.withUTF8 { text in
            partCopy.withUTF8 { part -> Bool? in
                guard text.allSatisfy({ $0 < 0x80 }), part.allSatisfy({ $0 < 0x80 }) else { return nil }
                let first = part[0]
                guard text.count >= part.count else { return false }
                for start in 0...(text.count - part.count) where text[start] == first {
                    if part.indices.allSatisfy({ text[start + $0] == part[$0] }) { return true }
                }
                return false
            }
        }
        return found ?? text.contains(part)
    }

    /// FNV-1a, 64 bits, as 16 hex digits: the same on every platform and run.
    static func fnv1a64(_ text: String) -> String {
        var hash = FNV1a64()
        hash.add(text)
        return FNV1a64.hex(hash.value)
    }
}

/// FNV-1a, 64 bits, fed text part by part.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        // Read in place, not through the string's UTF-8 view byte by byte (several times the
        // instructions).
        var text = text
        text.withUTF8 { add(bytes: $0) }
    }

    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { add(bytes: $0) } }

    private mutating func add(bytes: UnsafeBufferPointer<UInt8>) {
        var value = self.value
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        self.value = value
    }

    /// `value` as 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { digits in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(index))) & 0xf
                digits[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return 16
        }
    }
}
