// What encoders need back from a tokenizer besides ids: where in the text each token came from, so that NER
// entities and QA answers can be given as character offsets, as transformers' offset_mapping gives them.

/// One token of an encoding: its id and the text it stands for as offsets [start, end) in Unicode scalars of the
/// text given to the tokenizer (Python str indices); (0, 0) for special tokens added around the text.
public struct TokenSpan: Equatable, Sendable {
    public var id: Int32
    public var start: Int32
    public var end: Int32
    public init(id: Int32, start: Int32, end: Int32) {
        self.id = id
        self.start = start
        self.end = end
    }
}
