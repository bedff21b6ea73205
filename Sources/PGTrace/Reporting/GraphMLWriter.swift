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
    public func write(_ view: LockGraphView, to out: (String) throws -> Void) rethrows {
        var header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        header += "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" "
        header += "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        header += "xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n"
        for key in Self.nodeKeys {
            header += "  <key id=\"n_\(key.id)\" for=\"node\" attr.name=\"\(key.name)\" attr.type=\"\(key.id == "flagged" ? "boolean" : "string")\"/>\n"
        }
        for key in Self.edgeKeys {
            header += "  <key id=\"e_\(key.id)\" for=\"edge\" attr.name=\"\(key.name)\" attr.type=\"\(["line", "event"].contains(key.id) ? "int" : "string")\"/>\n"
        }
        header += "  <graph id=\"lock-order\" edgedefault=\"directed\">\n"
        try out(header)
        for (index, node) in view.nodes.enumerated() {
            try out(
                "    <node id=\"n\(index)\">\n" + data("n_label", node.name) + data("n_type", node.type)
                    + data("n_usage", node.usage) + data("n_flagged", node.isFlagged ? "true" : "false") + "    </node>\n")
        }
        // An edge's ends are the nodes of its classes' names (the last, where two share one),
        // found among the nodes by name: a dictionary of their ids took 25 MB for 250k classes.
        let nodes = KeyOrder(count: view.nodes.count) { view.nodes[$0].name }
        // The edges come by their first class: its node found once for all of its edges.
        var last: (name: String, node: Int?)?
        for (index, edge) in view.edges.enumerated() {
            let from = edge.from
            if last == nil || !last!.name.isSame(as: from) { last = (from, nodes.last(from)) }
            guard let source = last!.node, let target = nodes.last(edge.to) else { continue }
            let evidence = edge.evidence
            var text = "    <edge id=\"e\(index)\" source=\"n\(source)\" target=\"n\(target)\">\n"
            text += data("e_kind", edge.kind) + data("e_types", edge.types.joined(separator: ","))
            text += data("e_file", evidence.file) + data("e_line", String(evidence.line))
            text += data("e_event", String(evidence.event))
            if let at = evidence.at { text += data("e_at", at) }
            if let fn = evidence.function { text += data("e_fn", fn) }
            if !edge.flaggedBy.isEmpty { text += data("e_flaggedBy", edge.flaggedBy.joined(separator: ",")) }
            try out(text + "    </edge>\n")
        }
        try out("  </graph>\n</graphml>\n")
    }

    private func data(_ key: String, _ value: String) -> String {
        "      <data key=\"\(key)\">\(Self.escaped(value))</data>\n"
    }
}
