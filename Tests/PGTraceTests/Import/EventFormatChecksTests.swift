import Testing

@testable import PGTrace

/// Event formats as a kernel writes them into a trace.dat, and as a corrupt copy has them:
/// `EventFormatChecks` passes the first and names the byte where each of the others goes wrong.
@Suite struct EventFormatChecksTests {
    /// A format in the kernel's shape (include/trace/events/writeback.h's
    /// writeback_single_inode_start, cut down), with `id` and a print fmt of its own.
    static func format(_ name: String, id: String, fields: String = "", print: String) -> [UInt8] {
        let text = """
            name: \(name)
            ID: \(id)
            format:
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
            \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
            \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

            \tfield:char name[32];\toffset:8;\tsize:32;\tsigned:0;
            \tfield:unsigned long state;\toffset:40;\tsize:8;\tsigned:0;
            \tfield:__data_loc char[] reason;\toffset:48;\tsize:4;\tsigned:0;
            \(fields)
            print fmt: \(print)

            """
        return Array(text.utf8)
    }

    static let printFlags = #""bdi %s: state=%s", REC->name, __print_flags(REC->state, "|", {1, "I_DIRTY_SYNC"})"#

    /// Checks `formats` in order, as one file's; the error's message, or nil.
    static func check(_ formats: [[UInt8]]) -> String? {
        var checks = EventFormatChecks(displayName: "t.dat")
        var start = 1000
        do {
            for text in formats {
                try checks.check(text[...], at: start, "the event formats section", ofEvent: true)
                start += text.count
            }
            return nil
        } catch {
            return error.description
        }
    }

    @Test func formatsAsTheKernelWritesThemPass() {
        #expect(Self.check([Self.format("a", id: "95", print: Self.printFlags), Self.format("b", id: "96", print: #""x""#)]) == nil)
        // A field printed under a name it does not declare is libtraceevent's to print, not a crash.
        #expect(Self.check([Self.format("a", id: "1", print: #""%s", __get_str(reason), REC->__data_loc_reason"#)]) == nil)
        // An arrow in a string literal before the flags' field is no reference.
        #expect(Self.check([Self.format("a", id: "1", print: #""a->b \"->x\"", __print_flags(REC->state, "->", {1, "S"})"#)]) == nil)
    }

    @Test func theFlagsFieldIsFoundAsLibtraceeventFindsIt() {
        // Blanks and parentheses around the arrow; a first argument of no field leaves the
        // lookup to the next reference.
        for (print, name) in [
            (#""%s", __print_flags(REC->stat, "|", {1, "S"})"#, "stat"),
            (#""%s", __print_symbolic(REC-> state2, {1, "S"})"#, "state2"),
            (#""%s", __print_flags((REC)->tate, "|", {1, "S"})"#, "tate"),
            (#""%s", __print_flags(1, "|", {1, "S"}), REC->nope"#, "nope"),
        ] {
            let text = Self.format("a", id: "1", print: print)
            let message = Self.check([text])
            let printFormat = text.firstRange(of: Array("print fmt: ".utf8))!.upperBound
            let at = 1000 + printFormat + print.utf8.distance(from: print.utf8.startIndex, to: print.utf8.firstRange(of: name.utf8)!.lowerBound)
            #expect(
                message
                    == "t.dat: byte \(at): error: the format of a: its print fmt reads the field \"\(name)\" for \(print.contains("symbolic") ? "__print_symbolic" : "__print_flags"), which it does not declare: the trace.dat is corrupt",
                "\(print)")
        }
    }

    @Test func anIDMissingRepeatedOrNotANumberIsAnError() {
        let first = Self.format("a", id: "95", print: "\"x\"")
        #expect(Self.check([first, Self.format("b", id: "95", print: "\"x\"")])?.contains("byte \(1000 + first.count + 8): error: the format of b gives the ID 95, as another format does") == true)
        // As C's strtoul reads them, 095 is 0 and -95 none: only the kernel's decimal is taken.
        for id in ["9x", "095", "-95", "+95", "0x5f"] {
            #expect(Self.check([Self.format("a", id: id, print: "\"x\"")]) == "t.dat: byte 1008: error: the format of a gives the ID \"\(id)\", not a decimal number: the trace.dat is corrupt")
        }
        // Blanks around the colon and a CR after the number are libtraceevent's blanks too.
        let spelled = Array(String(decoding: first, as: UTF8.self).replacingOccurrences(of: "ID: 95\n", with: "ID:\t95 \r\n").utf8)
        #expect(Self.check([spelled, Self.format("b", id: "0", print: "\"x\"")]) == nil)
        let noID = Array(String(decoding: first, as: UTF8.self).replacingOccurrences(of: "ID: 95\n", with: "").utf8)
        #expect(Self.check([noID]) == "t.dat: byte 1000: error: the format of a has no ID line: the trace.dat is corrupt")
    }

    @Test func commonFieldsDeclaredOtherwiseIsAnError() {
        let first = Self.format("a", id: "1", print: "\"x\"")
        let other = Array(String(decoding: Self.format("b", id: "2", print: "\"x\""), as: UTF8.self).replacingOccurrences(of: "common_flags;\toffset:2", with: "common_flags;\toffset:0").utf8)
        let line = String(decoding: other, as: UTF8.self).utf8.firstRange(of: "\tfield:unsigned char common_flags".utf8)!.lowerBound
        let at = 1000 + first.count + String(decoding: other, as: UTF8.self).utf8.distance(from: String(decoding: other, as: UTF8.self).utf8.startIndex, to: line)
        let reference = 1000 + String(decoding: first, as: UTF8.self).utf8.distance(
            from: String(decoding: first, as: UTF8.self).utf8.startIndex, to: String(decoding: first, as: UTF8.self).utf8.firstRange(of: "\tfield:unsigned short common_type".utf8)!.lowerBound)
        let otherStart = at - String(decoding: other, as: UTF8.self).utf8.distance(
            from: String(decoding: other, as: UTF8.self).utf8.firstRange(of: "\tfield:unsigned short common_type".utf8)!.lowerBound, to: line)
        #expect(
            Self.check([first, other])
                == "t.dat: byte \(otherStart): error: the format of b places the common fields otherwise than the format of a does (at byte \(reference)), where every event shares them: the trace.dat is corrupt")
        // Blanks, `signed:` and fields of other names are not what pgtrace reads.
        let respelled = Array(
            String(decoding: Self.format("c", id: "3", fields: "\tfield:int my_common_x;\toffset:56;\tsize:4;", print: "\"x\""), as: UTF8.self)
                .replacingOccurrences(of: "common_pid;\toffset:4;\tsize:4;\tsigned:1;", with: "common_pid;  offset: 4;  size:4;").utf8)
        #expect(Self.check([first, respelled]) == nil)
    }

    /// An empty format, of an event with no records, is libtraceevent's to refuse (it goes on
    /// without the event), as trace-cmd reads such a file.
    @Test func anEmptyFormatIsLeftToLibtraceevent() {
        #expect(Self.check([[], Array("\n \n".utf8), Self.format("a", id: "1", print: "\"x\"")]) == nil)
    }

    @Test func aPrintFmtsLiteralMaySayWhatASCIICannot() {
        #expect(Self.check([Self.format("a", id: "1", print: #""delay %lu µs", REC->state"#)]) == nil)
    }

    @Test func aByteThatIsNotPrintableASCIIIsAnError() {
        var text = Self.format("a", id: "1", print: "\"x\"")
        let bracket = text.firstIndex(of: UInt8(ascii: "["))!
        for byte: UInt8 in [0xff, 0xc3, 0x01, 0x7f] {
            text[bracket + 1] = byte
            #expect(
                Self.check([text]) == "t.dat: byte \(1000 + bracket + 1): error: the event formats section holds the byte 0x\(String(byte, radix: 16)), where an event format is ASCII text: the trace.dat is corrupt")
        }
    }
}
