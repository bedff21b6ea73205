/// Writes a lock graph as GraphML, which yEd, Gephi and networkx read: one node per lock
/// class with its type and usage, one edge per dependency with the event that created it.
public struct GraphMLWriter {
    public init() {}

    /// Text escaped for XML character data and attribute values.
    public static func escaped(_ text: String) -> String { XMLText.escaped(text) }

    private static let nodeKeys: [(id: String, name: String)] = [
        ("label", "label"), ("type", "type"), ("usage", "usage"), ("flagged", "flagged"),
    ]
    private static let edgeKeys: [(id: String, name: String)] = [
        ("kind", "kind"), ("types", "types"), ("file", "file"), ("line", "line"), ("event", "event"),
        ("at", "at"), ("fn", "fn"), ("flaggedBy", "flagged_by"),
    ]

    public func render(_ view: LockGraphView) -> String {
        var text = ""
        write(view) { text += $0 }
        return text
    }

    /// Writes the document a node and an edge at a time, the same bytes as `render`.
    public func write(_ view: LockGraphView, to write: (String) throws -> Void) rethrows {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" "
        out += "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        out += "xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n"
        for key in Self.nodeKeys {
            out += "  <key id=\"n_\(key.id)\" for=\"node\" attr.name=\"\(key.name)\" attr.type=\"\(key.id == "flagged" ? "boolean" : "string")\"/>\n"
        }
        for key in Self.edgeKeys {
            out += "  <key id=\"e_\(key.id)\" for=\"edge\" attr.name=\"\(key.name)\" attr.type=\"\(["line", "event"].contains(key.id) ? "int" : "string")\"/>\n"
        }
        out += "  <graph id=\"lock-order\" edgedefault=\"directed\">\n"
        try write(out)
        var ids: [String: String] = [:]
        for (index, node) in view.nodes.enumerated() {
            let id = "n\(index)"
            ids[node.name] = id
            try write(
                "    <node id=\"\(id)\">\n" + data("n_label", node.name) + data("n_type", node.type)
                    + data("n_usage", node.usage) + data("n_flagged", node.isFlagged ? "true" : "false") + "    </node>\n")
        }
        for (index, edge) in view.edges.enumerated() {
            guard let source = ids[edge.from], let target = ids[edge.to] else { continue }
            let evidence = edge.evidence
            out = "    <edge id=\"e\(index)\" source=\"\(source)\" target=\"\(target)\">\n"
            out += data("e_kind", edge.kind) + data("e_types", edge.types.joined(separator: ","))
            out += data("e_file", evidence.file) + data("e_line", String(evidence.line))
            out += data("e_event", String(evidence.event))
            if let at = evidence.at { out += data("e_at", at) }
            if let fn = evidence.function { out += data("e_fn", fn) }
            if !edge.flaggedBy.isEmpty { out += data("e_flaggedBy", edge.flaggedBy.joined(separator: ",")) }
            try write(out + "    </edge>\n")
        }
        try write("  </graph>\n</graphml>\n")
    }

    private func data(_ key: String, _ value: String) -> String {
        "      <data key=\"\(key)\">\(Self.escaped(value))</data>\n"
    }
}
