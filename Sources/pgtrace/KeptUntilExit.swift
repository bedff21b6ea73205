/// What a command hands to the end of the process instead of freeing it: an analysis of a
/// large graph is hundreds of thousands of small objects (findings' text, moments, tables),
/// and freeing them one by one just before exit cost 3% of a run (16k cycles: 78M of 3,025M
/// instructions; a ring of 16k classes: 36M of 1,672M), memory the kernel takes back at once.
///
/// What is kept never runs its deinit, nor does anything it holds: keep nothing that holds an
/// `Output` not yet committed (whose deinit removes its temporary file when the run fails),
/// so keep once the output is written. Only for what a command makes once: `validate`, which
/// analyses trace after trace, frees each as it goes, or its memory would grow with them.
enum KeptUntilExit {
    nonisolated(unsafe) private static var kept: [Any] = []

    static func keep(_ values: Any...) { kept.append(contentsOf: values) }
}
