/* Prompt in, streamed text out: generate.c MODEL PROMPT [MAX_TOKENS] (greedy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftlet.h"

static bool print_piece(int32_t token, const char *piece, size_t piece_len, void *user) {
    (void)token;
    (void)user;
    fwrite(piece, 1, piece_len, stdout);
    fflush(stdout);
    return true;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL PROMPT [MAX_TOKENS]\n", argv[0]);
        return 2;
    }
    swiftlet_model *model = NULL;
    swiftlet_session *session = NULL;
    swiftlet_params params = swiftlet_default_params();
    params.temperature = 0; /* greedy, as `swiftlet generate --temp 0` */
    params.n_ctx = 0; /* the model's own context length (for an encoder-decoder, its target limit) */
    int status = 1;
    if (swiftlet_model_open(argv[1], &model) != SWIFTLET_OK ||
        swiftlet_session_create(model, &params, &session) != SWIFTLET_OK ||
        swiftlet_generate(session, argv[2], strlen(argv[2]), argc > 3 ? atoi(argv[3]) : 64, print_piece, NULL) != SWIFTLET_OK) {
        fprintf(stderr, "error: %s\n", swiftlet_last_error());
    } else {
        printf("\n");
        status = 0;
    }
    swiftlet_session_free(session);
    swiftlet_model_close(model);
    return status;
}
