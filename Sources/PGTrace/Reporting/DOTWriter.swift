/// Writes a lock graph in Graphviz's DOT language: boxes for lock classes labelled with their
/// usage (`{+.-.}`) and type, edges labelled with the event that created them, and what a
/// finding blames drawn in red.
public struct DOTWriter {
    public init() {}

    /// A DOT double-quoted string: backslashes and quotes escaped, line feeds as `\n` and
    /// carriage returns as `\r` (two names differing by one stay two nodes).
    public static func quoted(_ text: String) -> String {
        // Most names need no escape: found by their bytes (walking a name by characters cost
        // a tenth of drawing a large graph).
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
            return "\"" + text + "\""
        }
        // By scalars, not characters: a quote with a combining accent, or CR LF, is one
        // character, which a match on the quote or the line feed alone would pass over.
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    public func render(_ view: LockGraphView, title: String = "lock order") -> String {
        var text = ""
        write(view, title: title) { text += $0 }
        return text
    }

    /// Writes the graph a node and an edge at a time, the same bytes as `render`.
    public func write(_ view: LockGraphView, title: String = "lock order", to out: (String) throws -> Void) rethrows {
        var header = "digraph \(Self.quoted(title)) {\n"
        header += "  rankdir=LR;\n"
        header += "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
        header += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        if let whole = view.partOf {
            let part = "the \(view.nodes.count) classes and \(view.edges.count) dependencies around findings, of \(whole.classes) and \(whole.dependencies) (pgtrace graph --all draws them all)"
            header += "  // A part of the graph: \(part)\n"
            header += "  label=\(Self.quoted("pgtrace: " + part)); labelloc=t;\n"
        }
        try out(header)
        for node in view.nodes {
            var attributes = ["label=" + Self.quoted(node.isPseudo ? node.name : "\(node.name)\n\(node.usage) \(node.type)")]
            if node.isPseudo { attributes.append("shape=octagon") }
            if node.isFlagged { attributes.append("color=red, penwidth=2") }
            try out("  \(Self.quoted(node.name)) [\(attributes.joined(separator: ", "))];\n")
        }
        for edge in view.edges {
            let evidence = edge.evidence
            var label = "\(evidence.file):\(evidence.line)"
            if let source = evidence.function ?? evidence.at { label += "\n\(source)" }
            if let meaning = edge.meaning { label += "\n(\(meaning))" }
            var attributes = ["label=" + Self.quoted(label)]
            if !edge.flaggedBy.isEmpty {
                attributes.append("color=red, fontcolor=red, penwidth=2")
                attributes.append("tooltip=" + Self.quoted(edge.flaggedBy.joined(separator: ", ")))
            }
            // Dashed, red or not, as the legend says: no plain lock order.
            if edge.meaning != nil { attributes.append("style=dashed") }
            try out("  \(Self.quoted(edge.from)) -> \(Self.quoted(edge.to)) [\(attributes.joined(separator: ", "))];\n")
        }
        try out("}\n")
    }
}
