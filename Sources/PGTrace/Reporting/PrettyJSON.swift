import Foundation

/// `value` as the pretty-printed JSON every report and baseline file uses: sorted keys,
/// slashes unescaped, a trailing newline.
func prettyJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try! encoder.encode(value)
    return String(decoding: data, as: UTF8.self) + "\n"
}
