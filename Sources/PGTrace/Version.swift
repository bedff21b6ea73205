/// pgtrace's version, printed by `pgtrace --version` and written into SARIF's tool driver.
public let pgtraceVersion = "0.3.0"
