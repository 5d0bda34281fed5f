/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
typedef int bms_placeholder_t;
