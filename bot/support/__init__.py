"""Human support: cases and their audit, incident notices, and the support group's desk."""
