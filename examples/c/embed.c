/* Sentence vectors from C: embed.c MODEL [--vectors] TEXT...
   Prints the cosine similarity of every pair of texts, or with --vectors one L2-normalised vector per text
   (one line each, as `swiftlet embed --normalize` prints them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftlet.h"

int main(int argc, char **argv) {
    const int vectors_only = argc > 2 && strcmp(argv[2], "--vectors") == 0;
    const int first = vectors_only ? 3 : 2, texts = argc - first;
    if (argc < 2 || texts < 1) {
        fprintf(stderr, "usage: %s MODEL [--vectors] TEXT...\n", argv[0]);
        return 2;
    }
    swiftlet_model *model = NULL;
    swiftlet_session *session = NULL;
    swiftlet_params params = swiftlet_default_params();
    float *vectors = NULL;
    int status = 1;
    if (swiftlet_model_open(argv[1], &model) != SWIFTLET_OK || swiftlet_session_create(model, &params, &session) != SWIFTLET_OK) {
        fprintf(stderr, "error: %s\n", swiftlet_last_error());
        goto done;
    }
    const int dim = swiftlet_model_embedding_size(model);
    vectors = malloc(sizeof(float) * (size_t)dim * (size_t)texts);
    if (!vectors) goto done;
    for (int t = 0; t < texts; t++) {
        float *v = vectors + (size_t)t * (size_t)dim;
        const char *text = argv[first + t];
        if (swiftlet_embed(session, text, strlen(text), v, (size_t)dim) != SWIFTLET_OK) {
            fprintf(stderr, "error: %s\n", swiftlet_last_error());
            goto done;
        }
        if (vectors_only) {
            for (int i = 0; i < dim; i++) printf(i ? " %.9g" : "%.9g", v[i]);
            printf("\n");
        }
    }
    for (int a = 0; !vectors_only && a < texts; a++) {
        for (int b = a + 1; b < texts; b++) {
            double dot = 0; /* unit vectors: the dot product is the cosine */
            for (int i = 0; i < dim; i++) dot += (double)vectors[(size_t)a * dim + i] * vectors[(size_t)b * dim + i];
            printf("%.6f\t%s\t%s\n", dot, argv[first + a], argv[first + b]);
        }
    }
    status = 0;
done:
    free(vectors);
    swiftlet_session_free(session);
    swiftlet_model_close(model);
    return status;
}
