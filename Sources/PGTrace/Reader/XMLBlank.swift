extension UInt8 {
    /// XML's white space (the S production: space, tab, line feed, carriage return), the
    /// blanks a trace may hold between elements and around an attribute's value.
    var isXMLBlank: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
