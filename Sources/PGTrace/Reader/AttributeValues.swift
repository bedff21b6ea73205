/// The attributes of one element, checked against what the element takes and decoded into
/// typed values with errors that say what was expected.
struct AttributeValues {
    private var values: [String?] = Array(repeating: nil, count: AttributeName.allCases.count)
    private var present: [AttributeName] = []
    var element: ElementName = .trace

    mutating func reset(for element: ElementName) {
        for name in present { values[name.index] = nil }
        present.removeAll(keepingCapacity: true)
        self.element = element
    }

    /// Stores one attribute; throws the message for an attribute the element does not take.
    mutating func set(_ rawName: String, _ value: String) throws(DecodeFailure) {
        guard let name = AttributeName.byName[rawName],
            element.attributes.contains(name)
                || (element.isEvent && AttributeName.common.contains(name))
        else {
            if rawName.hasPrefix("x-") { return }
            let takes = (element.isEvent ? AttributeName.common : [])
                .union(element.attributes).map(\.rawValue).sorted()
            throw DecodeFailure(
                "unknown attribute '\(rawName)' on <\(element.rawValue)>; it takes "
                    + (takes.isEmpty ? "no attributes" : takes.joined(separator: ", ")))
        }
        values[name.index] = value
        present.append(name)
    }

    subscript(name: AttributeName) -> String? { values[name.index] }

    func required(_ name: AttributeName) throws(DecodeFailure) -> String {
        guard let value = values[name.index] else {
            throw DecodeFailure("<\(element.rawValue)> needs attribute '\(name.rawValue)'")
        }
        return value
    }

    func integer(_ name: AttributeName, minimum: Int = 0) throws(DecodeFailure) -> Int? {
        guard let text = values[name.index] else { return nil }
        guard let value = Int(text), value >= minimum else {
            throw DecodeFailure(
                "attribute '\(name.rawValue)' of <\(element.rawValue)> must be an integer >= \(minimum), not '\(text)'"
            )
        }
        return value
    }

    func requiredInteger(_ name: AttributeName, minimum: Int = 0) throws(DecodeFailure) -> Int {
        _ = try required(name)
        return try integer(name, minimum: minimum)!
    }

    func boolean(_ name: AttributeName) throws(DecodeFailure) -> Bool {
        switch values[name.index] {
        case nil, "false", "0": return false
        case "true", "1": return true
        case let text?:
            throw DecodeFailure(
                "attribute '\(name.rawValue)' of <\(element.rawValue)> must be true or false, not '\(text)'"
            )
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(
        _ name: AttributeName, as type: T.Type
    ) throws(DecodeFailure) -> T? where T.RawValue == String {
        guard let text = values[name.index] else { return nil }
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw DecodeFailure(
                "attribute '\(name.rawValue)' of <\(element.rawValue)> must be one of \(choices), not '\(text)'"
            )
        }
        return value
    }
}

/// A decoding error before it is given its place in the file.
struct DecodeFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension AttributeName {
    /// Dense index for `AttributeValues` storage.
    var index: Int { Self.indices[self]! }
    private static let indices: [AttributeName: Int] = Dictionary(
        uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}

