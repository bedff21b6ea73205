extension Array {
    /// The first `limit` elements, and how many follow them: a held-lock list as a report or
    /// a moment keeps it (at most `--max-depth` locks, the most entries lockdep's held-lock
    /// array holds; the rest counted). The array itself, shared, where it is no longer.
    func listed(upTo limit: Int) -> (listed: [Element], more: Int) {
        count <= limit ? (self, 0) : (Array(prefix(limit)), count - limit)
    }
}
