@testable import PGTrace
import Testing

/// The chain cache is a cache, bounded as lockdep bounds its chains: past its capacity it
/// starts again empty, so its memory stays bounded however many distinct chains a trace has.
@Suite struct ChainCacheTests {
    @Test func aFullCacheStartsAgain() {
        var cache = ChainKeySet()
        let keys = (1...UInt64(ChainKeySet.capacity)).map { $0 &* 0x9E37_79B9_7F4A_7C15 }
        var inserted = 0
        for key in keys where cache.insert(key) { inserted += 1 }
        #expect(inserted == keys.count)
        var again = cache.insert(keys[0])
        #expect(!again, "still cached at capacity")
        again = cache.insert(0xDEAD_BEEF)
        #expect(again, "one more: the cache starts again empty")
        again = cache.insert(keys[0])
        #expect(again, "so an old chain is validated again")
        again = cache.insert(keys[0])
        #expect(!again)
    }
}
