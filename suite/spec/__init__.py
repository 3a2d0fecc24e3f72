"""What is measured: one run's settings, the profiles, the metrics, the claims and how they are
judged, the ablations of chapter 3 as data, the book's own numbers. No torch: the report, the
nightly comparison and the flake tools read these specs without training anything."""
