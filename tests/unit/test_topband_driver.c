/* SPDX-License-Identifier: MIT */
/* stub */
int main(void);
int main(void) { return 0; }
