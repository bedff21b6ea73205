@testable import PGTrace
import Testing

/// A trace.dat's pages are dropped behind the reader only where /proc/self/maps says they map
/// a file: on anonymous memory MADV_DONTNEED would zero data libtracecmd still uses.
@Suite struct PosixTests {
    let maps = """
        55d0c4a00000-55d0c4a2a000 r--p 00000000 fd:01 1835043                    /usr/bin/pgtrace
        7f55aa604000-7f55aa9fc000 r--p 00004000 fd:01 1234567                    /tmp/capture.dat
        7f55aaa00000-7f55aac00000 rw-p 00000000 00:00 0 
        7ffd1c0de000-7ffd1c0ff000 rw-p 00000000 00:00 0                          [stack]

        """

    func mapping(_ address: UInt) -> Range<UInt>? {
        Array(maps.utf8).withUnsafeBufferPointer { Posix.fileMapping(containing: address, in: $0) }
    }

    @Test func anAddressInAFileMapIsFoundWithItsRange() {
        #expect(mapping(0x7f55_aa60_4000) == 0x7f55_aa60_4000..<0x7f55_aa9f_c000)
        #expect(mapping(0x7f55_aa9f_bfff) == 0x7f55_aa60_4000..<0x7f55_aa9f_c000)
        #expect(mapping(0x55d0_c4a0_1234) == 0x55d0_c4a0_0000..<0x55d0_c4a2_a000)
    }

    @Test func anonymousMemoryAndUnmappedAddressesAreNotFileMaps() {
        #expect(mapping(0x7f55_aaa0_0010) == nil)  // inode 0: anonymous
        #expect(mapping(0x7ffd_1c0d_e000) == nil)  // the stack
        #expect(mapping(0x7f55_aa9f_c000) == nil)  // just past the file's map
        #expect(mapping(0x1000) == nil)
    }

    @Test func thisProcessStackIsNoFileMap() {
        // The live table.
        var onStack = 0
        let stack = withUnsafePointer(to: &onStack) { UInt(bitPattern: $0) }
        #expect(Posix.fileMapping(containing: stack) == nil)
    }
}
