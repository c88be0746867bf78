//! Reading a fuzz input as a few small fields followed by a tail of bytes.
//!
//! Every read succeeds: a field past the end of the input reads as zero or empty, so that
//! every byte string is a valid input and libFuzzer never wastes a run on a rejected one.

/// A cursor over a fuzz input.
#[derive(Debug, Clone)]
pub(crate) struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// One byte, or 0 past the end.
    pub(crate) fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&first, rest)) => {
                self.rest = rest;
                first
            }
            None => 0,
        }
    }

    /// A big-endian `u16` (missing bytes read as 0).
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// A piece whose length is given by the next byte (cut short at the end of the input).
    pub(crate) fn short_piece(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()).min(self.rest.len());
        let (piece, rest) = self.rest.split_at(len);
        self.rest = rest;
        piece
    }

    /// Everything up to the next NUL byte (consumed), or the whole rest when there is none.
    pub(crate) fn until_nul(&mut self) -> &'a [u8] {
        match self.rest.iter().position(|&b| b == 0) {
            Some(at) => {
                let piece = &self.rest[..at];
                self.rest = &self.rest[at + 1..];
                piece
            }
            None => std::mem::take(&mut self.rest),
        }
    }

    /// Everything not read yet.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// Writes the fields that [`Input::short_piece`] reads back: a length byte, then the bytes
/// (cut to 255).
pub(crate) fn push_short_piece(out: &mut Vec<u8>, piece: &[u8]) {
    let piece = &piece[..piece.len().min(usize::from(u8::MAX))];
    out.push(u8::try_from(piece.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(piece);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_what_was_written() {
        let mut data = vec![7, 0x01, 0xF4];
        push_short_piece(&mut data, b"hdr");
        data.extend_from_slice(b"a\0b\0tail");

        let mut input = Input::new(&data);

        assert_eq!(input.byte(), 7);
        assert_eq!(input.u16(), 500);
        assert_eq!(input.short_piece(), b"hdr");
        assert_eq!(input.until_nul(), b"a");
        assert_eq!(input.until_nul(), b"b");
        assert_eq!(input.rest(), b"tail");
    }

    #[test]
    fn reads_past_the_end_are_zero_or_empty() {
        let mut input = Input::new(&[9, 200, 1]);

        assert_eq!(input.byte(), 9);
        assert_eq!(input.short_piece(), [1]);
        assert_eq!(input.u16(), 0);
        assert_eq!(input.until_nul(), b"");
        assert!(input.rest().is_empty());
    }
}
