/* The C surface on an encoder model: bad arguments to swiftlet_embed, what a decoder-only call gives, the
   masked-LM logits of swiftlet_logits, and embeddings equal whatever the thread. usage: embed_test MODEL */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static swiftlet_model *model;
static float reference[1024];
static int dim;

static void *embed_again(void *unused) {
    (void)unused;
    swiftlet_session *s = NULL;
    float v[1024];
    int same = swiftlet_session_create(model, NULL, &s) == SWIFTLET_OK &&
               swiftlet_embed(s, "The quick brown fox.", 20, v, 1024) == SWIFTLET_OK && memcmp(v, reference, sizeof(float) * (size_t)dim) == 0;
    swiftlet_session_free(s);
    return (void *)(size_t)same;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL\n", argv[0]);
        return 2;
    }
    swiftlet_session *session = NULL;
    CHECK(swiftlet_model_open(argv[1], &model) == SWIFTLET_OK, "open %s", argv[1]);
    CHECK(swiftlet_session_create(model, NULL, &session) == SWIFTLET_OK, "session");
    if (failures) return 1;
    dim = swiftlet_model_embedding_size(model);
    CHECK(dim > 0 && dim <= 1024, "embedding size %d", dim);

    CHECK_ERROR(swiftlet_embed(session, "hi", 2, NULL, 0), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    CHECK_ERROR(swiftlet_embed(session, "hi", 2, reference, (size_t)dim - 1), SWIFTLET_ERR_BUFFER_TOO_SMALL);
    CHECK_ERROR(swiftlet_embed(session, "\xff\xfe", 2, reference, 1024), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_embed(session, NULL, 5, reference, 1024), SWIFTLET_ERR_INVALID_ARGUMENT);
    CHECK_ERROR(swiftlet_generate(session, "hi", 2, 4, NULL, NULL), SWIFTLET_ERR_UNSUPPORTED);

    /* The empty text is a defined input ([CLS] [SEP]), and every vector has unit length. */
    CHECK(swiftlet_embed(session, "", 0, reference, 1024) == SWIFTLET_OK, "empty text");
    CHECK(swiftlet_embed(session, "The quick brown fox.", 20, reference, 1024) == SWIFTLET_OK, "embed");
    double norm = 0;
    for (int i = 0; i < dim; i++) norm += (double)reference[i] * reference[i];
    CHECK(fabs(norm - 1) < 1e-5, "|v|² = %f", norm);

    /* Two sessions on two threads give the very same vector. */
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, embed_again, NULL);
    for (int i = 0; i < 2; i++) {
        void *same = NULL;
        pthread_join(threads[i], &same);
        CHECK(same, "thread %d's vector differs", i);
    }
    swiftlet_session_free(session);
    swiftlet_model_close(model);
    if (failures) {
        fprintf(stderr, "embed_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("embed_test: all checks passed\n");
    return 0;
}
