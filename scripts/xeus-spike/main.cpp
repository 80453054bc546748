// xpython-shaped smoke test: a MAIN_MODULE that embeds CPython 3.13 (static libpython3.13.a)
// through pybind11, converts between nlohmann::json and Python objects with pybind11_json,
// and compiles xeus's and xtl's headers (no xeus library: its source is not available here).
#include <iostream>
#include <string>
#include <pybind11/embed.h>
#include <nlohmann/json.hpp>
#include <pybind11_json/pybind11_json.hpp>
#include <xtl/xbase64.hpp>
#include <xeus/xinterpreter.hpp>

namespace py = pybind11;
namespace nl = nlohmann;

int main() {
    py::scoped_interpreter guard{};
    py::module_ sys = py::module_::import("sys");
    nl::json msg = {{"msg_type", "execute_request"}, {"content", {{"code", "21 * 2"}}}};
    py::object pymsg = msg;                       // pybind11_json: json -> dict
    py::dict scope;
    scope["msg"] = pymsg;
    scope["sys_platform"] = sys.attr("platform");
    py::exec(R"(
import json, zlib, platform
reply = {"status": "ok", "result": eval(msg["content"]["code"]),
         "python": platform.python_version(), "platform": sys_platform,
         "zlib": zlib.ZLIB_RUNTIME_VERSION}
)", scope);
    nl::json reply = scope["reply"];             // pybind11_json: dict -> json
    try {
        py::exec("raise ValueError('propagated')");
    } catch (py::error_already_set& e) {
        reply["exception"] = std::string(e.what()).substr(0, 23);
    }
    reply["b64"] = xtl::base64encode("xeus");
    std::cout << reply.dump() << std::endl;
    return 0;
}
