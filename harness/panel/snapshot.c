/* SPDX-License-Identifier: MIT */
/* Headless rendering: the software renderer into a surface, saved as PNG
 * with SDL2_image. Needs no display. */
#include <SDL_image.h>
#include <stdio.h>

#include "harness/panel/panel.h"

SDL_Surface *bench_panel_render_surface(bench_panel_t *p, int w, int h)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    if (s == NULL) {
        return NULL;
    }
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
    if (r == NULL) {
        SDL_FreeSurface(s);
        return NULL;
    }
    bench_panel_render(p, r, w, h);
    SDL_RenderPresent(r);
    SDL_DestroyRenderer(r);
    return s;
}

int bench_panel_save_png(bench_panel_t *p, const char *path, int w, int h, char *err,
                         size_t errcap)
{
    SDL_Surface *s = bench_panel_render_surface(p, w, h);
    if (s == NULL) {
        snprintf(err, errcap, "cannot render: %s", SDL_GetError());
        return -1;
    }
    int rc = IMG_SavePNG(s, path);
    SDL_FreeSurface(s);
    if (rc != 0) {
        snprintf(err, errcap, "%s: %s", path, IMG_GetError());
        return -1;
    }
    return 0;
}
