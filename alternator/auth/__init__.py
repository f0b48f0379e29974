"""Request authentication (AWS Signature Version 4)."""
