// capgraph/text/number_format.hpp — every way capgraph prints a number.
//
// All of them go through std::to_chars: locale-independent and
// deterministic (the same double always gives the same bytes), unlike
// printf or iostreams, whose decimal point follows the C locale.
//
//   shortest     data and specs: reads back as the same double (CSV, JSON,
//                written specs)
//   significant  reports: printf's "%.*g" (tables)
//   compact      labels: significant digits with a short exponent ("1e10")
//   fixed        drawing coordinates and fixed decimals ("0.42")
//   scientific   printf's "%.*e"
#pragma once

#include <string>
#include <string_view>

namespace capgraph::text {

/// The shortest text that reads back as `v` ("0.1", "1e+10"); "nan",
/// "inf", "-inf" for the non-finite values.
std::string shortest(double v);
/// shortest(v) written into `buf`, without allocating (for long outputs).
std::string_view shortest(double v, char (&buf)[64]);

/// `v` with `digits` significant digits, as printf("%.*g"); "nan", "inf",
/// "-inf" for the non-finite values.
std::string significant(double v, int digits);

/// significant(v, digits) with the exponent written short ("1e10",
/// "3.2e-7"), and "0" for zero.
std::string compact(double v, int digits = 3);

/// `v` with exactly `decimals` decimals, as printf("%.*f").
std::string fixed(double v, int decimals);

/// `v` in scientific notation with `decimals` decimals, as printf("%.*e").
std::string scientific(double v, int decimals);

}  // namespace capgraph::text
