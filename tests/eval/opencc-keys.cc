// opencc-keys.cc — prints every key of the dictionaries of OpenCC
// configurations, one per line, for tests/eval/variant-pairs.sh.
//
//   opencc-keys CONFIG…      CONFIG is a path to an OpenCC .json file
//
// OpenCC's C interface only converts; its C++ interface (installed by
// libopencc-dev) exposes the dictionaries.  Not part of the build: the
// script compiles it with g++ when it regenerates daemon/variants.c's
// table.  Single-threaded; exit 1 when a configuration cannot be loaded.
#include <opencc/Config.hpp>
#include <opencc/Conversion.hpp>
#include <opencc/ConversionChain.hpp>
#include <opencc/Converter.hpp>
#include <opencc/DictEntry.hpp>
#include <opencc/DictGroup.hpp>
#include <opencc/Lexicon.hpp>

#include <exception>
#include <iostream>
#include <memory>

static void
print_keys(const opencc::DictPtr &dict)
{
	auto group = std::dynamic_pointer_cast<opencc::DictGroup>(dict);

	if (group) {
		for (const auto &d : group->GetDicts())
			print_keys(d);
		return;
	}
	auto lexicon = dict->GetLexicon();
	for (size_t i = 0; i < lexicon->Length(); i++)
		std::cout << lexicon->At(i)->Key() << '\n';
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		try {
			opencc::Config config;
			auto conv = config.NewFromFile(argv[i]);

			for (const auto &c :
			    conv->GetConversionChain()->GetConversions())
				print_keys(c->GetDict());
		} catch (const std::exception &e) {
			std::cerr << "opencc-keys: " << argv[i] << ": " <<
			    e.what() << '\n';
			return 1;
		}
	}
	return 0;
}
