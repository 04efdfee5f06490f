/* The C surface from C: bad arguments, greedy generation equal to the CLI's, one model shared by threads, one
   session called from two threads at once, and repeated open/generate/close (run under valgrind by tools/test-c.sh
   for leaks).
   usage: api_test MODEL PROMPT EXPECTED_IDS(comma-separated) ROUNDS [--no-rss]
   (--no-rss under valgrind, whose own bookkeeping grows the process) */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Resident set size in KiB, from /proc/self/statm. */
static long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * 4;
}

typedef struct {
    int32_t ids[256];
    size_t count;
} collected;

static bool collect(int32_t token, const char *piece, size_t piece_len, void *user) {
    (void)piece;
    (void)piece_len;
    collected *c = user;
    if (token != SWIFTLET_NO_TOKEN && c->count < 256) c->ids[c->count++] = token;
    return true;
}

static bool stop_at_once(int32_t token, const char *piece, size_t piece_len, void *user) {
    (void)token, (void)piece, (void)piece_len, (void)user;
    return false;
}

static const char *model_path, *prompt;
static int32_t expected[256];
static size_t expected_count;

/* Greedy generation of expected_count tokens in a fresh session of `model`. */
static int generate_matches(swiftlet_model *model) {
    swiftlet_params p = swiftlet_default_params();
    p.temperature = 0;
    p.n_ctx = 128;
    p.n_threads = 1;
    swiftlet_session *s = NULL;
    collected c = {{0}, 0};
    int ok = swiftlet_session_create(model, &p, &s) == SWIFTLET_OK &&
             swiftlet_generate(s, prompt, strlen(prompt), (int32_t)expected_count, collect, &c) == SWIFTLET_OK &&
             c.count == expected_count && memcmp(c.ids, expected, expected_count * sizeof(int32_t)) == 0;
    swiftlet_session_free(s);
    return ok;
}

static void *thread_main(void *model) { return (void *)(intptr_t)generate_matches(model); }

/* Greedy generation in a session another thread uses at the same time: calls take turns (SWIFTLET_OK), or fail with
   an error; the process goes on either way. */
static void *shared_session_main(void *session) {
    collected c = {{0}, 0};
    swiftlet_session_reset(session);
    swiftlet_status s = swiftlet_generate(session, prompt, strlen(prompt), (int32_t)expected_count, collect, &c);
    return (void *)(intptr_t)(s == SWIFTLET_OK || strlen(swiftlet_last_error()) > 0);
}

/* Misuse that must not crash: more threads than the machine has (capped, not started until pthread_create fails),
   and one session called from two threads at once (the header asks for one at a time). */
static void misuse(const char *path) {
    swiftlet_model *model = NULL;
    swiftlet_session *session = NULL;
    CHECK(swiftlet_model_open(path, &model) == SWIFTLET_OK, "open %s", path);
    swiftlet_params p = swiftlet_default_params();
    p.n_ctx = 8;
    p.n_threads = 100000;
    CHECK(swiftlet_session_create(model, &p, &session) == SWIFTLET_OK, "100000 threads");
    swiftlet_session_free(session);
    p = swiftlet_default_params();
    p.temperature = 0;
    p.n_ctx = 128;
    p.n_threads = 1;
    CHECK(swiftlet_session_create(model, &p, &session) == SWIFTLET_OK, "shared session");
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, shared_session_main, session);
    for (int i = 0; i < 2; i++) {
        void *ok = NULL;
        pthread_join(threads[i], &ok);
        CHECK(ok, "shared session, thread %d: failed without a message", i);
    }
    swiftlet_session_free(session);
    swiftlet_model_close(model);
}

int main(int argc, char **argv) {
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "--no-rss") == 0)) {
        fprintf(stderr, "usage: %s MODEL PROMPT EXPECTED_IDS ROUNDS [--no-rss]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    prompt = argv[2];
    for (char *t = strtok(argv[3], ","); t && expected_count < 256; t = strtok(NULL, ",")) expected[expected_count++] = atoi(t);
    int rounds = atoi(argv[4]);
    /* A fixed mmap threshold: glibc raises it when a large block is freed, after which a session's arena may come
       from the heap and stay resident once (a one-time 2.3 MB step in RSS that read as growth). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);

    /* NULL and nonsense */
    swiftlet_model *model = NULL;
    swiftlet_session *session = NULL;
    CHECK(strlen(swiftlet_version()) > 0, "no version");
    CHECK_ERROR(swiftlet_model_open(NULL, &model), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_model_open(model_path, NULL), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_model_open("/nonexistent/model.gguf", &model), SWIFTLET_ERR_IO);
    CHECK(model == NULL, "model set after a failed open");
    CHECK_ERROR(swiftlet_model_open("/etc/hostname", &model), SWIFTLET_ERR_FORMAT);
    swiftlet_model_close(NULL);
    swiftlet_session_free(NULL);
    swiftlet_session_reset(NULL);
    CHECK(swiftlet_model_vocab_size(NULL) == -1, "vocab size of NULL");
    CHECK(swiftlet_session_memory_bytes(NULL) == 0, "memory of NULL");
    CHECK_ERROR(swiftlet_session_create(NULL, NULL, &session), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_generate(NULL, "hi", 2, 4, NULL, NULL), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_logits(NULL, expected, 1, NULL, 0), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_embed(NULL, "hi", 2, NULL, 0), SWIFTLET_ERR_INVALID_ARGUMENT);

    CHECK(swiftlet_model_open(model_path, &model) == SWIFTLET_OK && model, "open %s", model_path);
    if (!model) return 1;
    int32_t vocab = swiftlet_model_vocab_size(model);
    CHECK(vocab > 0 && swiftlet_model_embedding_size(model) > 0, "sizes");
    size_t n = 0;
    int32_t ids[64];
    CHECK_ERROR(swiftlet_tokenize(model, "\xff\xfe", 2, true, ids, 64, &n), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_tokenize(model, NULL, 5, true, ids, 64, &n), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_tokenize(model, "hello world", 11, true, NULL, 5, &n), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_tokenize(model, "hello world", 11, true, NULL, 0, &n), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    size_t needed = n;
    CHECK(needed > 1, "count asked with capacity 0: %zu", needed);
    CHECK_ERROR(swiftlet_tokenize(model, "hello world", 11, true, ids, 1, &n), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    CHECK(n == needed, "needed count %zu, then %zu", needed, n);
    CHECK(swiftlet_tokenize(model, "hello world", 11, true, ids, 64, &n) == SWIFTLET_OK && n == needed, "tokenize");
    char text[64];
    size_t len = 0;
    CHECK(swiftlet_detokenize(model, ids, n, text, sizeof text, &len) == SWIFTLET_OK && len == 11 &&
              memcmp(text, "hello world", 11) == 0, "detokenize round trip: %.*s", (int)len, text);
    CHECK_ERROR(swiftlet_detokenize(model, ids, n, text, 3, &len), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 11, "needed bytes %zu", len);
    int32_t bad[2] = {1, vocab};
    CHECK_ERROR(swiftlet_detokenize(model, bad, 2, text, sizeof text, &len), SWIFTLET_ERR_INVALID_ARGUMENT);
    /* SIZE_MAX says "room enough" of a capacity; as a length it describes no buffer. */
    CHECK(swiftlet_tokenize(model, "hello world", 11, true, ids, SIZE_MAX, &n) == SWIFTLET_OK && n == needed, "SIZE_MAX ids");
    CHECK(swiftlet_detokenize(model, ids, n, text, SIZE_MAX, &len) == SWIFTLET_OK && len == 11, "SIZE_MAX bytes");
    CHECK_ERROR(swiftlet_tokenize(model, "hello", SIZE_MAX, true, ids, 64, &n), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_detokenize(model, ids, SIZE_MAX, text, sizeof text, &len), SWIFTLET_ERR_INVALID_ARGUMENT);

    swiftlet_params p = swiftlet_default_params();
    p.top_p = 2;
    CHECK_ERROR(swiftlet_session_create(model, &p, &session), SWIFTLET_ERR_INVALID_ARGUMENT);
    p = swiftlet_default_params();
    p.n_beams = 4;
    CHECK_ERROR(swiftlet_session_create(model, &p, &session), SWIFTLET_ERR_UNSUPPORTED);
    p = swiftlet_default_params();
    p.n_ctx = 8;
    CHECK(swiftlet_session_create(model, &p, &session) == SWIFTLET_OK && session, "session");
    CHECK(swiftlet_session_memory_bytes(session) > 0, "memory bytes");
    CHECK_ERROR(swiftlet_generate(session, "hi", 2, 0, NULL, NULL), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_generate(session, "\xc3", 1, 4, NULL, NULL), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_generate(session, "a b c d e f g h i j k l m n o", 29, 4, NULL, NULL), SWIFTLET_ERR_CONTEXT_FULL);
    swiftlet_session_reset(session);
    CHECK(swiftlet_generate(session, "hi", 2, 4, stop_at_once, NULL) == SWIFTLET_OK, "a callback may stop generation");
    float logits[1024];
    CHECK_ERROR(swiftlet_logits(session, bad, 2, logits, 1024), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_logits(session, ids, 1, logits, 3), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    CHECK(vocab > 1024 || swiftlet_logits(session, ids, 1, logits, 1024) == SWIFTLET_OK, "logits");
    CHECK(vocab > 1024 || swiftlet_logits(session, ids, 1, logits, SIZE_MAX) == SWIFTLET_OK, "logits into SIZE_MAX");
    CHECK_ERROR(swiftlet_logits(session, ids, 1, NULL, 4096), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK(strstr(swiftlet_last_error(), "NULL") != NULL, "a NULL buffer: %s", swiftlet_last_error());
    CHECK_ERROR(swiftlet_logits(session, ids, SIZE_MAX, logits, 1024), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_embed(session, "hi", 2, logits, 1024), SWIFTLET_ERR_UNSUPPORTED);
    swiftlet_session_free(session);

    /* The CLI's greedy tokens; then two threads sharing the model give them too. */
    CHECK(generate_matches(model), "greedy tokens differ from swiftlet generate --temp 0");
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, thread_main, model);
    for (int i = 0; i < 2; i++) {
        void *ok = NULL;
        pthread_join(threads[i], &ok);
        CHECK(ok, "thread %d: greedy tokens differ", i);
    }
    swiftlet_model_close(model);

    /* Open, generate, close: no leaks (valgrind) and no growth after the first rounds have warmed up. */
    long warm = 0;
    for (int i = 0; i < rounds; i++) {
        swiftlet_model *m = NULL;
        CHECK(swiftlet_model_open(model_path, &m) == SWIFTLET_OK && generate_matches(m), "round %d", i);
        swiftlet_model_close(m);
        if (i == 9) warm = rss_kib();
    }
    /* A leaked session arena or model per round would add tens of MiB over 90 rounds. */
    if (rounds >= 100 && argc == 5) CHECK(rss_kib() - warm < 2048, "RSS grew from %ld to %ld KiB over %d rounds", warm, rss_kib(), rounds - 10);
    /* After the rounds, so that their threads' stacks and malloc arenas do not count in the RSS check. */
    misuse(model_path);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("api_test: all checks passed (%d rounds)\n", rounds);
    return failures ? 1 : 0;
}
