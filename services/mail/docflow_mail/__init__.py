"""DocFlow mail service: templated e-mails for events, SMTP delivery with retries."""
