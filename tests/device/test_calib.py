# acu.calib: format validation, raw -> grams, nominal curves, load() fallback, creep compensation.
import json
import os

from acu import calib, calib_parse, creep
from mpcompat import heap_lock, heap_unlock, needs_heap_lock, raises

_TMP = "/tmp/acu_test_calib_%d" % os.getpid() if hasattr(os, "getpid") else "/tmp/acu_test_calib"


def _good():
    return {"format": "acu-calib", "version": 1, "id": "c-0001", "created": "2025-01-02T03:04:05Z",
            "sensor": "fsr402", "method": "power-law", "zero_raw": 4200,
            "points": [[4200, 0], [20000, 1000], [30000, 3000], [36000, 5000], [40000, 8000]],
            "creep": {"pct_per_decade": 3.0, "ref_s": 2.0},
            "fit": {"anything": 1}, "residuals": [], "reference": "kitchen scale"}


def test_knots_exact_and_linear_between():
    cal = calib.Calibration.from_dict(_good())
    assert cal.id == "c-0001"
    assert cal.calibrated
    assert cal.sensor == "fsr402"
    for r, g in _good()["points"]:
        assert abs(cal.grams(r) - g) <= 1
    assert abs(cal.grams(25000) - 2000) <= 1
    assert abs(cal.grams(33000) - 4000) <= 1


def test_extrapolates_with_end_slopes():
    cal = calib.Calibration.from_dict(_good())
    # above the last knot: slope of the last segment (3000 g per 4000 raw)
    assert abs(cal.grams(44000) - 11000) <= 2
    # below the first: slope of the first segment (1000 g per 15800 raw)
    assert abs(cal.grams(4200 - 1580) - (-100)) <= 1
    # far outside: clamped, still monotone, no overflow
    assert cal.grams(65535) >= cal.grams(60000)
    assert cal.grams(0) <= cal.grams(100)


def test_monotone_over_adc_range():
    cal = calib.Calibration.from_dict(calib.nominal("fsr402"))
    prev = cal.grams(0)
    raw = 0
    while raw <= 65535:
        g = cal.grams(raw)
        assert g >= prev
        prev = g
        raw += 97


def test_loadcell_large_counts_precise():
    d = _good()
    d["sensor"] = "loadcell"
    d["method"] = "linear"
    d["zero_raw"] = -120000
    d["points"] = [[-120000, 0], [-120000 + 2148000, 10000]]
    d["creep"] = None
    cal = calib.Calibration.from_dict(d)
    assert cal.creep is None
    for g in (0, 1000, 3000, 4000, 5000, 9999):
        raw = -120000 + g * 2148 // 10
        assert abs(cal.grams(raw) - g) <= 1
    assert abs(cal.grams(-120000 + 2148000 * 2) - 20000) <= 3


def test_nominal_curves_valid_and_uncalibrated():
    for kind in calib_parse.KINDS:
        d = calib.nominal(kind)
        cal = calib.Calibration.from_dict(d)
        assert not cal.calibrated
        assert cal.sensor == kind
        assert d["method"] == "nominal"
    d = calib.nominal("fsr402")
    # docs/hardware.md: an unloaded FSR reads ~213 mV ~ 4230 u16 through the 6.8k bleed
    assert 4150 < d["zero_raw"] < 4300
    cal = calib.Calibration.from_dict(d)
    assert cal.grams(d["zero_raw"]) == 0
    # 3-5 kg sits mid-scale (~1.6..1.9 V)
    g3 = [p for p in d["points"] if p[1] == 3000][0][0]
    g5 = [p for p in d["points"] if p[1] == 5000][0][0]
    assert 30000 < g3 < g5 < 40000
    raises(ValueError, calib.nominal, "strain")


def _bad(field, value):
    d = _good()
    if value is None and field in d:
        del d[field]
    else:
        d[field] = value
    e = raises(ValueError, calib.Calibration.from_dict, d)
    assert field in str(e), str(e)


def test_rejects_bad_fields_naming_them():
    _bad("format", "other")
    _bad("version", 2)
    _bad("id", "")
    _bad("created", "yesterday")
    _bad("sensor", "piezo")
    _bad("method", "spline")
    _bad("zero_raw", 1.5)
    _bad("points", [[1, 0]])
    _bad("points", [[i, i] for i in range(1, 70)])
    e = raises(ValueError, calib.Calibration.from_dict, dict(_good(), points=[[10, 0], [5, 100]]))
    assert "points[1]" in str(e) and "raw" in str(e)
    e = raises(ValueError, calib.Calibration.from_dict, dict(_good(), points=[[10, 100], [50, 50]]))
    assert "points[1]" in str(e) and "grams" in str(e)
    e = raises(ValueError, calib.Calibration.from_dict, dict(_good(), points=[[10, 0], ["x", 50]]))
    assert "points[1]" in str(e)
    e = raises(ValueError, calib.Calibration.from_dict,
               dict(_good(), creep={"pct_per_decade": -1, "ref_s": 2}))
    assert "creep.pct_per_decade" in str(e)
    e = raises(ValueError, calib.Calibration.from_dict, dict(_good(), creep={"pct_per_decade": 3}))
    assert "creep.ref_s" in str(e)
    raises(ValueError, calib.Calibration.from_dict, [1, 2])


def test_load_falls_back_to_nominal():
    nom = calib.nominal("fsr402")
    path = _TMP + ".json"
    try:
        os.remove(path)
    except OSError:
        pass
    cal = calib.load(path, nom)
    assert not cal.calibrated and "missing" in cal.load_error
    with open(path, "w") as f:
        f.write("{not json")
    cal = calib.load(path, nom)
    assert not cal.calibrated and cal.load_error
    with open(path, "w") as f:
        json.dump(dict(_good(), points=[[5, 0]]), f)
    cal = calib.load(path, nom)
    assert not cal.calibrated and "points" in cal.load_error
    with open(path, "w") as f:
        json.dump(dict(_good(), sensor="a201"), f)
    cal = calib.load(path, nom)
    assert not cal.calibrated and "sensor" in cal.load_error
    with open(path, "w") as f:
        json.dump(_good(), f)
    cal = calib.load(path, nom)
    assert cal.calibrated and cal.id == "c-0001" and cal.load_error is None
    os.remove(path)


def test_round_trip_to_dict():
    cal = calib.Calibration.from_dict(_good())
    cal2 = calib.Calibration.from_dict(cal.to_dict())
    assert cal2.points == cal.points
    assert cal2.creep.pct_per_decade == 3.0


def test_creep_comp():
    cc = creep.CreepComp(4.0, 2.0)
    assert cc.adjust(4000, 0) == 4000
    assert cc.adjust(4000, 2000) == 4000
    # one decade after the reference the reading is 4 % high
    assert abs(cc.adjust(4160, 20000) - 4000) <= 8
    # two decades: 8 %
    assert abs(cc.adjust(4320, 200000) - 4000) <= 10
    assert cc.adjust(0, 100000) == 0
    assert cc.adjust(100000, 1 << 29) > 0
    none = creep.CreepComp(0.0, 2.0)
    assert none.adjust(4321, 500000) == 4321


def test_grams_and_creep_allocate_nothing():
    needs_heap_lock()
    cal = calib.Calibration.from_dict(calib.nominal("fsr402"))
    lc = calib.Calibration.from_dict(calib.nominal("loadcell"))
    cc = creep.CreepComp(3.5, 2.0)
    total = 0
    heap_lock()
    try:
        raw = 0
        while raw < 65536:
            total += cal.grams(raw)
            total += lc.grams(raw * 100 - 3000000)
            total += cc.adjust(raw >> 3, raw * 3)
            raw += 13
    finally:
        heap_unlock()
    assert total != 0
