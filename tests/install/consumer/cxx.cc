// SPDX-License-Identifier: MIT
// The generated header from C++: Delete and New are C++ keywords.
#include "kw.corpc.h"

extern "C" const char *consumer_cxx_path(void);

const char *
consumer_cxx_path(void)
{
	Shop__Switch_Server impl = {};
	(void) impl.new_;
	return shop__switch__register__method.path;
}
