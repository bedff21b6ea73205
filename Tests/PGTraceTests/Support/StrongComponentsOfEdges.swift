@testable import PGTrace

extension StrongComponents {
    /// `of(outDegrees:edges:)` for nodes `0..<nodeCount`, the degrees counted here: the tests
    /// give edges alone, where the graph counts its degrees as it reads its facts.
    static func of<Edges: Collection>(nodeCount: Int, edges: Edges) -> [Int32] where Edges.Element == (from: Int32, to: Int32) {
        var outDegrees = [Int32](repeating: 0, count: nodeCount)
        for edge in edges { outDegrees[Int(edge.from)] += 1 }
        return of(outDegrees: outDegrees, edges: edges)
    }
}
