/* SPDX-License-Identifier: MIT */
/* Text and rectangle helpers for the panel (SDL2_ttf on any renderer). */
#include <string.h>

#include "harness/panel/panel.h"

static SDL_Color color_of(uint32_t rgb)
{
    SDL_Color c = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
    return c;
}

/* Returns the width drawn (0 for empty text or when the font fails). */
int bench_panel_text(bench_panel_t *p, SDL_Renderer *r, TTF_Font *f, int x, int y, uint32_t rgb,
                     const char *s)
{
    (void)p;
    if (f == NULL || s == NULL || s[0] == '\0') {
        return 0;
    }
    SDL_Surface *surf = TTF_RenderUTF8_Blended(f, s, color_of(rgb));
    if (surf == NULL) {
        return 0;
    }
    SDL_Texture *t = SDL_CreateTextureFromSurface(r, surf);
    int w = surf->w;
    if (t != NULL) {
        SDL_Rect dst = {x, y, surf->w, surf->h};
        SDL_RenderCopy(r, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    SDL_FreeSurface(surf);
    return w;
}

int bench_panel_text_width(TTF_Font *f, const char *s)
{
    int w = 0, h = 0;
    if (f == NULL || s == NULL || TTF_SizeUTF8(f, s, &w, &h) != 0) {
        return 0;
    }
    return w;
}

void bench_panel_fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb)
{
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    SDL_Rect rc = {x, y, w, h};
    SDL_RenderFillRect(r, &rc);
}

void bench_panel_frame(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb)
{
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    SDL_Rect rc = {x, y, w, h};
    SDL_RenderDrawRect(r, &rc);
}
