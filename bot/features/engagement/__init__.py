"""`/cadence …`: setting up an engagement, seating people, linking identities, asking zones."""
