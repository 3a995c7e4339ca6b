"""List imports, pure: reading CSV files and Pinpoint endpoint exports, and mapping their rows to contacts."""
