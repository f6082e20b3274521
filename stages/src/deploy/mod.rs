//! Deployment: the AWS SAM template and the equivalent resources on an AWS emulator, both
//! derived from `haul.toml` (its routes are the single source of the SNS filter policies).
