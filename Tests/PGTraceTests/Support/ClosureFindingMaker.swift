@testable import PGTrace

/// One graph finding reported without its text, made by a closure: how tests report pending
/// findings, where a checker's store makes each of its findings by number.
final class ClosureFindingMaker: PendingFindingMaker {
    private let key: String
    private let make: () -> Finding

    init(key: String, make: @escaping () -> Finding) {
        self.key = key
        self.make = make
    }

    func key(of number: Int) -> String { key }
    func finding(_ number: Int) -> Finding { make() }
    func locationCount(of number: Int) -> Int { finding(number).locations.count }
    func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int) { finding(number).locations[index].orderPlace }
    func baseFingerprint(of number: Int) -> UInt64 { finding(number).baseFingerprintValue }
    func discard() {}
    func handOut() {}
}

extension CheckerContext {
    /// Reports a graph finding whose text `make` writes when the findings are asked for.
    func reportGraphFindingOnce(_ rule: Rule, severity: Severity, key: String, make: @escaping (CheckerContext) -> Finding) {
        let maker = ClosureFindingMaker(key: key) { [unowned self] in make(self) }
        reportGraphFindingOnce(rule, severity: severity, maker: maker, number: 0)
    }
}
