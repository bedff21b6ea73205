/// Writes a lock graph in Graphviz's DOT language: boxes for lock classes labelled with their
/// usage (`{+.-.}`) and type, edges labelled with the event that created them, and what a
/// finding blames drawn in red.
public struct DOTWriter {
    public init() {}

    /// A DOT double-quoted string: control characters written as the text report writes them
    /// (`\x1b`, `TerminalText`: a capture's names are the kernel's bytes, and a graph printed
    /// to a terminal must not drive it), then backslashes and quotes escaped and line feeds as
    /// `\n` (two names differing by one stay two nodes).
    public static func quoted(_ text: String) -> String {
        // Most names need no escape: found by their bytes (walking a name by characters cost
        // a tenth of drawing a large graph).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) {
            return "\"" + text + "\""
        }
        let text = TerminalText.escaped(text)
        // By scalars, not characters: a quote with a combining accent, or CR LF, is one
        // character, which a match on the quote or the line feed alone would pass over.
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
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
