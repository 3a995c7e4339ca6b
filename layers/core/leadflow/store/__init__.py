"""DynamoDB access: one module per table (contacts, campaigns); nothing else talks to DynamoDB.

Key layouts live only here. Stores return domain models and raise domain errors.
"""
