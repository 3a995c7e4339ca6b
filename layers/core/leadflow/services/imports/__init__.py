"""List imports: CSV files into CRM campaigns and Amazon Pinpoint endpoint exports, through the import queue."""
