"""Calibrations: every threshold the consistency scorers and the composite use, in one named file
(`harness.calibration.file`), chosen by ``harness calibrate`` (`harness.calibration.fit`) or shipped
(``harness/calibration/shipped.json``); and the no-label check that a run's data scores like the data
its calibration was chosen on (`harness.calibration.drift`)."""
