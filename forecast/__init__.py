"""Bayesian election forecasting: polls -> fit -> posterior -> simulate -> seats -> reports."""

__version__ = "0.1.0"
