/* Prints the version of the libzmq this process runs on (zmq_version) and
 * the file it was loaded from: "4.3.4 /usr/lib/x86_64-linux-gnu/libzmq.so.5". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <zmq.h>

int main (void)
{
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    Dl_info info;
    const char *file = dladdr ((void *) zmq_version, &info) && info.dli_fname
                         ? info.dli_fname
                         : "?";
    printf ("%d.%d.%d %s\n", major, minor, patch, file);
    return 0;
}
