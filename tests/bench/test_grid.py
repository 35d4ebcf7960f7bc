"""Suite parsing, validation against the registry, grid expansion, exclusions and cell identity."""

from __future__ import annotations

import pytest
import tomli_w

from flowkit._tomllib import tomllib
from flowkit.bench import builtin_suites, load_suite
from flowkit.bench.loading import apply_overrides
from flowkit.bench.suite import Suite
from flowkit.exceptions import ConfigError, InvalidParameterError, UnknownComponentError


@pytest.fixture
def axes(make_suite):
    """A tiny suite with the given axes (data moons, solver euler unless given), no baseline."""

    def build(**axes):
        base = {"data": ["moons"], "solver": ["euler"]}
        base.update(axes)
        return make_suite(axes=base, baseline=False)

    return build


def test_grid_is_the_product_of_the_training_axes_in_order(axes):
    suite = load_suite(axes(path=["ot", "vp"], objective=["cfm", "fm"], seed=[0, 1, 2]))
    cells = suite.cells()
    assert len(cells) == 2 * 2 * 3
    assert [(c.config.path.name, c.config.objective.name, c.seed) for c in cells[:4]] == [
        ("ot", "cfm", 0),
        ("ot", "cfm", 1),
        ("ot", "cfm", 2),
        ("ot", "fm", 0),
    ]
    assert cells[0].label == "path=ot, objective=cfm"  # only the varying axes name a combination
    assert len({c.id for c in cells}) == 12
    assert len({c.combination for c in cells}) == 4


def test_sweep_expands_parameters_and_solvers_are_an_evaluation_axis(axes):
    suite = load_suite(
        axes(
            path=[{"name": "ot", "sweep": {"sigma_min": [0.0, 0.01]}}],
            solver=[{"name": "euler", "sweep": {"steps": [2, 4, 8]}}, {"name": "dopri5", "atol": 1e-4}],
        )
    )
    cells = suite.cells()
    assert [dict(c.config.path.params) for c in cells] == [{"sigma_min": 0.0}, {"sigma_min": 0.01}]
    # every cell is trained once and evaluated with all four solver settings
    assert [(s.name, dict(s.params)) for s in cells[0].solvers] == [
        ("euler", {"steps": 2}),
        ("euler", {"steps": 4}),
        ("euler", {"steps": 8}),
        ("dopri5", {"atol": 1e-4}),
    ]


def test_exclusions_drop_cells_or_only_evaluations(axes):
    data = axes(path=["ot", "vp", "ve"], objective=["cfm", "fm"], solver=["euler", "dopri5"])
    data["exclude"] = [{"objective": "fm", "path": ["vp", "ve"]}, {"path": "ve", "solver": "dopri5"}]
    cells = load_suite(data).cells()
    assert [(c.config.path.name, c.config.objective.name) for c in cells] == [
        ("ot", "cfm"),
        ("ot", "fm"),
        ("vp", "cfm"),
        ("ve", "cfm"),
    ]
    solvers = {c.config.path.name: [s.name for s in c.solvers] for c in cells if c.config.objective.name == "cfm"}
    assert solvers == {"ot": ["euler", "dopri5"], "vp": ["euler", "dopri5"], "ve": ["euler"]}


def test_exclusion_patterns_match_parameters_given_and_warn_when_unused(axes):
    data = axes(path=[{"name": "ot", "sweep": {"sigma_min": [0.0, 0.01]}}], seed=[0, 1])
    data["exclude"] = [{"path": {"name": "ot", "sigma_min": 0.01}, "seed": 1}]
    cells = load_suite(data).cells()
    assert [(c.config.path.params["sigma_min"], c.seed) for c in cells] == [(0.0, 0), (0.0, 1), (0.01, 0)]
    data["exclude"] = [{"path": "vp"}]
    with pytest.warns(UserWarning, match="matches no cell"):
        load_suite(data)
    data["exclude"] = [{"path": "ot"}]
    with pytest.raises(ConfigError, match="remove every cell"):
        load_suite(data)


def test_baseline_cells_one_per_model_data_and_seed(make_suite):
    suite = load_suite(make_suite())  # paths ot, vp; seeds 0, 1; baseline on
    cells = suite.cells()
    baselines = [c for c in cells if c.method == "baseline"]
    assert [c.seed for c in baselines] == [0, 1]
    # each baseline runs right after the flowkit cell it is compared with (similar machine load)
    assert [(c.method, c.config.path.name, c.seed) for c in cells[:3]] == [
        ("flowkit", "ot", 0),
        ("baseline", "ot", 0),
        ("flowkit", "ot", 1),
    ]
    for cell in baselines:
        assert cell.config.path.name == "ot" and cell.config.path.params["sigma_min"] == 1e-4
        assert (cell.config.coupling.name, cell.config.objective.name) == ("independent", "cfm")
        assert cell.config.model == cells[0].config.model and cell.config.train == cells[0].config.train
        assert cell.label.startswith("baseline")
    # the baseline differs from the flowkit OT cell in method, so it has its own identity
    assert len({c.id for c in cells}) == len(cells)


def test_unknown_names_are_rejected_with_the_registry_error_before_anything_runs(axes):
    with pytest.raises(UnknownComponentError) as error:
        load_suite(axes(path=["ot", "otp"]))
    message = str(error.value)
    assert "unknown path 'otp'" in message and "Did you mean 'ot'?" in message
    assert "Registered path names" in message and "vp" in message
    with pytest.raises(UnknownComponentError, match="unknown solver 'eulr'"):
        load_suite(axes(solver=["eulr"]))
    data = axes()
    data["eval"] = {"metrics": ["energy-distanse"]}
    with pytest.raises(UnknownComponentError, match="unknown metric"):
        load_suite(data)


def test_unknown_parameters_and_keys_are_rejected(axes, make_suite):
    with pytest.raises(InvalidParameterError, match="Accepted parameters: .*width"):
        load_suite(axes(model=[{"name": "mlp", "wdth": 3}]))
    with pytest.raises(InvalidParameterError):
        load_suite(axes(solver=[{"name": "euler", "steps": 0}]))
    with pytest.raises(ConfigError, match="unknown key 'pathz' in \\[axes\\]"):
        load_suite(axes(pathz=["ot"]))
    with pytest.raises(ConfigError, match="needs 'data'"):
        load_suite({"axes": {"path": ["ot"]}})
    with pytest.raises(ConfigError, match="train.steps"):
        load_suite(make_suite(train={"steps": 0}))
    with pytest.raises(ConfigError, match="lists ot twice"):
        load_suite(axes(path=["ot", "ot"]))
    with pytest.raises(ConfigError, match="not on axis 'path'"):
        load_suite(
            make_suite(claims=[{"statement": "s", "axis": "path", "best": "ot", "others": ["ve"], "metric": "nfe"}])
        )


def test_cell_identity_is_stable_and_ignores_the_device(make_suite):
    first = load_suite(make_suite()).cells()
    again = load_suite(make_suite()).cells(device="cpu")
    assert [c.id for c in first] == [c.id for c in again]
    seed0, seed1 = [c for c in first if c.method == "flowkit" and c.config.path.name == "ot"]
    assert seed0.combination == seed1.combination and seed0.id != seed1.id
    rebuilt = [type(c).from_dict(c.to_dict()) for c in first]
    assert [c.id for c in rebuilt] == [c.id for c in first]
    changed = load_suite(make_suite(train={**make_suite()["train"], "steps": 41})).cells()
    assert not {c.id for c in changed} & {c.id for c in first}


def test_written_suite_reads_back_to_the_same_cells(tmp_path, axes):
    data = axes(path=["ot", "vp"], solver=[{"name": "euler", "sweep": {"steps": [2, 4]}}])
    data["exclude"] = [{"path": "vp", "solver": {"name": "euler", "steps": 4}}]
    suite = load_suite(data)
    text = tomli_w.dumps(suite.to_dict())
    again = Suite.from_dict(tomllib.loads(text))
    assert [c.id for c in again.cells()] == [c.id for c in suite.cells()]


def test_overrides_take_toml_values(make_suite):
    data = apply_overrides(
        make_suite(),
        ["train.steps=7", "axes.seed=[3]", 'eval.likelihood_solver={ name = "rk4", steps = 2 }', "name=other"],
    )
    suite = load_suite(data)
    assert suite.train.steps == 7 and suite.axes["seed"] == (3,) and suite.name == "other"
    assert suite.eval.likelihood_solver.name == "rk4"
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["train.steps"])


def test_builtin_suites_load_and_validate():
    assert {"quick", "paper-2d", "digits"} <= set(builtin_suites())
    quick = load_suite("quick")
    assert len(quick.cells()) == 6 and sum(c.method == "baseline" for c in quick.cells()) == 2
    paper = load_suite("paper-2d")
    combos = {(c.config.path.name, c.config.objective.name, c.method) for c in paper.cells()}
    assert combos == {
        ("ot", "cfm", "flowkit"),
        ("vp", "cfm", "flowkit"),
        ("ve", "cfm", "flowkit"),
        ("ot", "fm", "flowkit"),
        ("ot", "cfm", "baseline"),
    }
    assert {s.name for s in paper.axes["solver"]} == {"euler", "midpoint", "dopri5"}
    dopri5 = next(s for s in paper.axes["solver"] if s.name == "dopri5")
    assert dopri5.params == {"atol": 1e-5, "rtol": 1e-5}
    digits = load_suite("digits")
    assert {c.config.model.name for c in digits.cells()} == {"unet"}
    with pytest.raises(ConfigError, match="built-in suites: .*quick"):
        load_suite("no-such-suite")
