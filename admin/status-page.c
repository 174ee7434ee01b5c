#include "admin/status-page.h"
const char admin_status_html[] = "<!doctype html><title>vigil</title><p>status page</p>\n";
const size_t admin_status_html_len = sizeof(admin_status_html) - 1;
