/*
    zmq_utils.h: deprecated by upstream libzmq; everything it offered is
    declared in zmq.h, which this header includes.
*/
#ifndef __ZMQ_UTILS_H_INCLUDED__
#define __ZMQ_UTILS_H_INCLUDED__

#include "zmq.h"

#endif
