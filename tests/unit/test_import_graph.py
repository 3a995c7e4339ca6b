"""The shape of the package, read from its import graph (grimp): no cycles, and arrows point down.

Every import counts: module-level, function-local (a lazy import must never hide a cycle) and
``TYPE_CHECKING``-only ones (a type-only cycle is still two modules that know each other).
"""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "leadflow"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def test_the_graph_sees_lazy_imports(graph: grimp.ImportGraph) -> None:
    # The definitions service imports the parser inside a function (for cold starts): grimp must
    # count such imports, or the cycle check below could not see a cycle hidden that way
    assert graph.direct_import_exists(
        importer="leadflow.services.definitions", imported="leadflow.definitions"
    )


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    cycles = set()
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.add(" -> ".join((module, *back)))
    assert sorted(cycles) == []


LOWER_LAYERS = ["services", "domain", "store", "adapters", "definitions"]


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_nothing_below_the_api_imports_it(graph: grimp.ImportGraph, layer: str) -> None:
    chain = graph.find_shortest_chain(
        importer=f"{PACKAGE}.{layer}", imported=f"{PACKAGE}.api", as_packages=True
    )
    assert chain is None, " -> ".join(chain or ())


@pytest.mark.parametrize("layer", ["domain", "definitions"])
@pytest.mark.parametrize("infrastructure", ["services", "store", "adapters", "aws"])
def test_domain_and_definitions_stay_pure(graph: grimp.ImportGraph, layer: str, infrastructure: str) -> None:
    chain = graph.find_shortest_chain(
        importer=f"{PACKAGE}.{layer}", imported=f"{PACKAGE}.{infrastructure}", as_packages=True
    )
    assert chain is None, " -> ".join(chain or ())
