// The one switch on architecture: Hugging Face `architectures` names and GGUF `general.architecture`
// values to the model family file that handles them.

import TensorFile

public enum Architecture {
    /// Hugging Face class names and the families that convert them.
    static let huggingFace: [String: @Sendable (HFConfig, Set<String>) throws(ModelError) -> HFConversion] = [
        "LlamaForCausalLM": Llama.conversion,
        "MistralForCausalLM": Llama.conversion,
        "MixtralForCausalLM": Llama.conversion,
        "CTRLLMHeadModel": CTRL.conversion,
        "XLNetLMHeadModel": XLNet.conversion,
        "GPT2LMHeadModel": GPT2.conversion,
        "GPT2Model": GPT2.conversion,
        "BertModel": BERT.conversion,
        "BertForMaskedLM": BERT.conversion,
        "BertForPreTraining": BERT.conversion,
        "BertForNextSentencePrediction": BERT.conversion,
        "BertForSequenceClassification": BERT.conversion,
        "BertForTokenClassification": BERT.conversion,
        "BertForQuestionAnswering": BERT.conversion,
        "RobertaModel": BERT.robertaConversion,
        "RobertaForMaskedLM": BERT.robertaConversion,
        "RobertaForSequenceClassification": BERT.robertaConversion,
        "RobertaForTokenClassification": BERT.robertaConversion,
        "RobertaForQuestionAnswering": BERT.robertaConversion,
        "DistilBertModel": BERT.distilBERTConversion,
        "DistilBertForMaskedLM": BERT.distilBERTConversion,
        "DistilBertForSequenceClassification": BERT.distilBERTConversion,
        "DistilBertForTokenClassification": BERT.distilBERTConversion,
        "DistilBertForQuestionAnswering": BERT.distilBERTConversion,
        "AlbertModel": ALBERT.conversion,
        "AlbertForMaskedLM": ALBERT.conversion,
        "AlbertForPreTraining": ALBERT.conversion,
        "AlbertForSequenceClassification": ALBERT.conversion,
        "AlbertForTokenClassification": ALBERT.conversion,
        "AlbertForQuestionAnswering": ALBERT.conversion,
        "T5ForConditionalGeneration": T5.conversion,
        "BartForConditionalGeneration": BART.conversion,
        "MarianMTModel": BART.marianConversion,
    ]

    static var knownNames: String { huggingFace.keys.sorted().joined(separator: ", ") }

    /// The conversion plan for a Hugging Face model whose config.json is `config` and whose
    /// safetensors hold `tensorNames`.
    public static func conversion(config: HFConfig, tensorNames: Set<String>) throws(ModelError) -> HFConversion {
        guard let names = config.json["architectures"]?.array, let name = names.first?.string else {
            throw .config(key: "architectures", reason: "missing: cannot tell which model this is")
        }
        if let plan = huggingFace[name] { return try plan(config, tensorNames) }
        throw .unknownArchitecture(name)
    }
}
