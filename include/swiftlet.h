/* Swiftlet: a quantized transformer inference engine, as a C library (libswiftlet.a).
 *
 * Every function is safe to call with NULL or bad arguments: it returns an error status (or a neutral value)
 * and never crashes. After an error, swiftlet_last_error() gives a message for the calling thread.
 * A buffer too small gets nothing past its capacity, the needed count in the n_ / _len out-parameter and
 * SWIFTLET_ERR_BUFFER_TOO_SMALL (capacity 0 with a NULL buffer asks for the count). Text in and out is
 * UTF-8; invalid UTF-8 in is SWIFTLET_ERR_INVALID_ARGUMENT. A capacity of SIZE_MAX means room enough. Objects
 * are opaque; one session is used by one thread at a time (calls from two at once take turns); several sessions
 * may share one model across threads.
 */
#ifndef SWIFTLET_H
#define SWIFTLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swiftlet_model swiftlet_model;
typedef struct swiftlet_session swiftlet_session;

typedef enum {
    SWIFTLET_OK = 0,
    SWIFTLET_ERR_INVALID_ARGUMENT = 1,
    SWIFTLET_ERR_IO = 2,
    SWIFTLET_ERR_FORMAT = 3,
    SWIFTLET_ERR_UNSUPPORTED = 4,
    SWIFTLET_ERR_OUT_OF_MEMORY = 5,
    SWIFTLET_ERR_CONTEXT_FULL = 6,
    SWIFTLET_ERR_CANCELLED = 7,
    SWIFTLET_ERR_BUFFER_TOO_SMALL = 8
} swiftlet_status;

typedef struct {            /* defaults from swiftlet_default_params(), as llama.cpp's: */
    int32_t n_ctx;          /* 0: the model's own context length (default 0) */
    int32_t n_threads;      /* 0: all cores; at most 4 per core and 512 (default 0) */
    float temperature;      /* 0: greedy (default 0.8) */
    int32_t top_k;          /* 0: off (default 40) */
    float top_p;            /* 1: off (default 0.95) */
    float min_p;            /* 0: off (default 0.05) */
    float repeat_penalty;   /* 1: off (default 1) */
    int32_t n_beams;        /* 1: no beam search (default 1) */
    uint64_t seed;          /* UINT64_MAX: a random seed (default) */
} swiftlet_params;

/* Called for each generated token; return false to stop generation. piece is the UTF-8 text of the whole
   characters this token completes (piece_len bytes, not NUL-terminated, valid during the call only). When
   generation ends inside a character (its bytes not all generated), one more call with token
   SWIFTLET_NO_TOKEN hands over U+FFFD for those bytes, as the CLI and a tokenizer's decode show them. */
typedef bool (*swiftlet_token_fn)(int32_t token, const char *piece, size_t piece_len, void *user);
#define SWIFTLET_NO_TOKEN (-1)

/* The library's version, e.g. "0.4.0". Static storage. */
const char *swiftlet_version(void);
/* The message of the calling thread's last error ("" if none). Valid until this thread's next call. */
const char *swiftlet_last_error(void);

/* Maps and validates a GGUF file. On success *out is a model to close with swiftlet_model_close. */
swiftlet_status swiftlet_model_open(const char *path, swiftlet_model **out);
/* Closes a model; NULL is fine. Sessions of the model must be freed first. */
void swiftlet_model_close(swiftlet_model *model);
/* Vocabulary size and embedding width; -1 for NULL. */
int32_t swiftlet_model_vocab_size(const swiftlet_model *model);
int32_t swiftlet_model_embedding_size(const swiftlet_model *model);

swiftlet_params swiftlet_default_params(void);
/* Creates a session: its whole arena (activations, KV cache) is allocated here, once. On an encoder model
   (BERT, RoBERTa, DistilBERT, ALBERT) the session embeds and gives masked-LM logits; only n_threads applies. */
swiftlet_status swiftlet_session_create(swiftlet_model *model, const swiftlet_params *params, swiftlet_session **out);
/* Frees a session; NULL is fine. */
void swiftlet_session_free(swiftlet_session *session);
/* Arena + KV cache bytes, fixed at create; 0 for NULL. */
size_t swiftlet_session_memory_bytes(const swiftlet_session *session);

/* Token ids of text, special tokens added as the model's tokenizer adds them when add_special.
   n_ids = the needed count even if > capacity. */
swiftlet_status swiftlet_tokenize(const swiftlet_model *model, const char *text, size_t text_len, bool add_special,
                                  int32_t *ids, size_t capacity, size_t *n_ids);
/* The text of ids (no NUL terminator written; text_len = bytes needed). */
swiftlet_status swiftlet_detokenize(const swiftlet_model *model, const int32_t *ids, size_t n_ids,
                                    char *text, size_t capacity, size_t *text_len);
/* Forgets the context. */
void swiftlet_session_reset(swiftlet_session *session);
/* The prompt is tokenized as the model's tokenizer does (BOS where it adds one on an empty context) and
   appended to what the session holds, so successive calls continue one conversation; a prefix the cache
   already holds is not evaluated again. Generates up to max_tokens tokens, calling on_token (may be NULL)
   for each. A full context is SWIFTLET_ERR_CONTEXT_FULL; a callback returning false ends with SWIFTLET_OK.
   Encoder-decoder models (T5, FLAN-T5) translate the prompt as a new source, sampling the target as params say
   or, with n_beams > 1, handing over the best beam's tokens. Encoder models: SWIFTLET_ERR_UNSUPPORTED. */
swiftlet_status swiftlet_generate(swiftlet_session *session, const char *prompt, size_t prompt_len,
                                  int32_t max_tokens, swiftlet_token_fn on_token, void *user);
/* Resets, evaluates ids from position 0 and writes the last row's logits (capacity ≥ vocab size). Encoder
   models: the masked-LM logits at the last id (SWIFTLET_ERR_UNSUPPORTED without a masked-LM head). */
swiftlet_status swiftlet_logits(swiftlet_session *session, const int32_t *ids, size_t n_ids,
                                float *logits, size_t capacity);
/* The text's sentence vector (capacity ≥ embedding size): tokenized with the model's special tokens, cut to
   the model's input limit, pooled as the model says (mean when it says nothing), L2-normalised. Encoder models
   only: decoders give SWIFTLET_ERR_UNSUPPORTED. */
swiftlet_status swiftlet_embed(swiftlet_session *session, const char *text, size_t text_len,
                               float *embedding, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
