DROP TABLE job_files;
