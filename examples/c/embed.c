/* Sentence vectors from C: embed.c MODEL TEXT... prints one L2-normalised vector per text, one line each, and
   the cosine similarity of the first two texts (on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftlet.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL TEXT...\n", argv[0]);
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
    const int dim = swiftlet_model_embedding_size(model), texts = argc - 2;
    vectors = malloc(sizeof(float) * (size_t)dim * (size_t)texts);
    if (!vectors) goto done;
    for (int t = 0; t < texts; t++) {
        float *v = vectors + (size_t)t * (size_t)dim;
        if (swiftlet_embed(session, argv[t + 2], strlen(argv[t + 2]), v, (size_t)dim) != SWIFTLET_OK) {
            fprintf(stderr, "error: %s\n", swiftlet_last_error());
            goto done;
        }
        for (int i = 0; i < dim; i++) printf(i ? " %.9g" : "%.9g", v[i]);
        printf("\n");
    }
    if (texts >= 2) {
        double dot = 0; /* the vectors have unit length: their dot product is the cosine */
        for (int i = 0; i < dim; i++) dot += (double)vectors[i] * vectors[dim + i];
        fprintf(stderr, "cosine(text 1, text 2) = %.6f\n", dot);
    }
    status = 0;
done:
    free(vectors);
    swiftlet_session_free(session);
    swiftlet_model_close(model);
    return status;
}
